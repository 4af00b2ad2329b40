"""Maps offsets in a rewritten string back to the string it was rewritten from.

Rewrites are recorded as edits (source start, source end, replacement length); everything between
edits is copied unchanged, so a position maps back by adding the shift accumulated before it.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from operator import sub


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


class OffsetMap:
    """Positions in a rewritten text -> positions in its source text."""

    __slots__ = ("_attached_marks", "_new_ends", "_new_starts", "_shifts", "_source_ends", "_source_starts")

    def __init__(self, source: str, edits: Iterable[tuple[int, int, int]]) -> None:
        self._source_starts: list[int] = []
        self._source_ends: list[int] = []
        self._new_starts: list[int] = []
        self._new_ends: list[int] = []
        #: shift (source - rewritten) after each edit
        self._shifts: list[int] = []
        #: deletions of combining marks belong to the letter before them (a nukta, a dropped matra)
        self._attached_marks: list[bool] = []
        shift = 0
        for start, end, new_length in edits:
            new_start = start - shift
            self._source_starts.append(start)
            self._source_ends.append(end)
            self._new_starts.append(new_start)
            self._new_ends.append(new_start + new_length)
            shift += end - start - new_length
            self._shifts.append(shift)
            self._attached_marks.append(new_length == 0 and _is_mark(source[start]))

    def __bool__(self) -> bool:
        """False for a map without edits (the identity)."""
        return bool(self._new_starts)

    @classmethod
    def of_deleted_runs(cls, starts: list[int], ends: list[int], marks: bool) -> OffsetMap:
        """Fast path for deleting runs of one character at sorted source `[starts[i], ends[i])`
        (nuktas); `marks` when that character is a combining mark."""
        offset_map = cls.__new__(cls)
        offset_map._source_starts = starts
        offset_map._source_ends = ends
        offset_map._shifts = list(accumulate(map(sub, ends, starts)))
        offset_map._new_starts = offset_map._new_ends = list(map(sub, starts, [0, *offset_map._shifts[:-1]]))
        offset_map._attached_marks = [marks] * len(starts)
        return offset_map

    def start(self, position: int) -> int:
        """Source position of the character at `position` (or of the end, for the text's length)."""
        index = bisect_right(self._new_ends, position)
        if index < len(self._new_starts) and self._new_starts[index] <= position < self._new_ends[index]:
            return self._source_starts[index] + (position - self._new_starts[index])
        return position + (self._shifts[index - 1] if index else 0)

    def end(self, position: int) -> int:
        """Source position just after the character before `position`, with its attached marks."""
        if position == 0:
            return 0
        last = position - 1
        index = bisect_right(self._new_ends, last)
        if index < len(self._new_starts) and self._new_starts[index] <= last < self._new_ends[index]:
            end = self._source_ends[index]
            index += 1
        else:
            end = last + (self._shifts[index - 1] if index else 0) + 1
        while index < len(self._new_starts) and self._source_starts[index] == end and self._attached_marks[index]:
            end = self._source_ends[index]
            index += 1
        return end


class ChainedOffsetMap:
    """Composes maps of successive rewrites (last rewrite first); the identity when there are none."""

    __slots__ = ("_maps",)

    def __init__(self, maps: list[OffsetMap]) -> None:
        self._maps = tuple(reversed(maps))

    def start(self, position: int) -> int:
        for offset_map in self._maps:
            position = offset_map.start(position)
        return position

    def end(self, position: int) -> int:
        for offset_map in self._maps:
            position = offset_map.end(position)
        return position
