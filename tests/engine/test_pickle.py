"""Workers get the compiled engine pickled (monitor/processing.py): a loaded copy must tag identically."""

from __future__ import annotations

import pickle
from pathlib import Path

from monitor.engine import Engine

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"

TEXTS = [
    "रूस के विदेश मंत्री सर्गेई लावरोव ने उत्तर कोरिया में किम जोंग-उन से मुलाक़ात की।\n\nसमझौते पर हस्ताक्षर हुए।",
    "Putin and Kim signed a treaty in Pyongyang; the U.S. and Japan objected.\r\nइसे भी पढ़ें: चीन की खबर",
    "वॉनसन में लावरोफ़ और चोए सोन हुई की बैठक हुई, उत्‍तर कोरिया ने रूस को गोले भेजे।",
]


def test_pickled_engine_tags_and_explains_identically(shipped: Engine) -> None:
    copy = pickle.loads(pickle.dumps(shipped))
    texts = TEXTS + [path.read_text(encoding="utf-8-sig") for path in sorted(SEEDS.glob("*.txt"))]
    assert copy.version == shipped.version
    for text in texts:
        assert copy.tag(text) == shipped.tag(text)
        assert copy.explain(text) == shipped.explain(text)
