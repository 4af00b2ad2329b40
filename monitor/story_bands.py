"""The near-duplicate index of the story book: MinHash LSH over the signatures' raw bytes. Datasketch's
``MinHashLSH`` wants a MinHash object per insert and per query and hashes each band through its storage
layer; this keeps one dict per band, keyed by the band's bytes, and finds the same candidates (the bands
are datasketch's, chosen for the same threshold and number of permutations). Pure."""

from __future__ import annotations

from datasketch import MinHashLSH

#: bytes per hash value of a signature (``story_features.signature_of``: uint32)
HASH_BYTES = 4


class Bands:
    """Article keys by the bands of their signatures; ``query`` gives the keys sharing any band."""

    def __init__(self, threshold: float, num_perm: int) -> None:
        shape = MinHashLSH(threshold=threshold, num_perm=num_perm)  # its banding: b bands of r values
        width = shape.r * HASH_BYTES
        self._num_bytes = num_perm * HASH_BYTES
        self._ranges = [(band * width, (band + 1) * width) for band in range(shape.b)]
        self._tables: list[dict[bytes, set[str]]] = [{} for _ in self._ranges]
        self._signatures: dict[str, bytes] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._signatures

    def _bands(self, signature: bytes) -> list[bytes]:
        if len(signature) != self._num_bytes:
            raise ValueError(f"a signature of {self._num_bytes} bytes expected, not {len(signature)}")
        return [signature[start:end] for start, end in self._ranges]

    def insert(self, key: str, signature: bytes) -> None:
        if key in self._signatures:
            raise ValueError(f"{key} is indexed already")
        self._signatures[key] = signature
        for table, band in zip(self._tables, self._bands(signature), strict=True):
            table.setdefault(band, set()).add(key)

    def remove(self, key: str) -> None:
        signature = self._signatures.pop(key)
        for table, band in zip(self._tables, self._bands(signature), strict=True):
            keys = table[band]
            keys.discard(key)
            if not keys:
                del table[band]

    def query(self, signature: bytes) -> set[str]:
        found: set[str] = set()
        for table, band in zip(self._tables, self._bands(signature), strict=True):
            keys = table.get(band)
            if keys:
                found.update(keys)
        return found
