"""Property tests: invisible and spelling-form changes never change the tags; spans hit the original."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.engine import Engine
from monitor.engine.result import TagResult

SENTENCES = [
    "रूस और उत्तर कोरिया ने क़रार पर हस्ताक्षर किए।",
    "पुतिन ने किम जोंग उन से वॉनसन में मुलाक़ात की।",
    "दक्षिण कोरिया ने मज़बूत बयान दिया।",
    "उत्तर कोरिया रूस को सैनिक भेज रहा है।",
    "रूस ने उत्तर कोरिया के साथ समझौते से इनकार किया।",
    "The US and Japan watched as Moscow and Pyongyang signed a pact.",
    "लावरोव ने चोए सोन-हुई से बातचीत की।",
    "इसे भी पढ़ें: चीन की ख़बर",
    "व्लादिमीर पुतिन ने कहा कि हम मदद करेंगे।",
]
NUKTA_LETTERS = {chr(code): unicodedata.normalize("NFD", chr(code)) for code in range(0x0958, 0x0960)}

articles = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=6).flatmap(
    lambda chosen: st.lists(st.sampled_from([" ", "\n", "\n\n"]), min_size=len(chosen), max_size=len(chosen)).map(
        lambda separators: "".join(s + sep for s, sep in zip(chosen, separators, strict=True)).strip()
    )
)


def signature(result: TagResult) -> tuple[object, ...]:
    return (
        tuple((entity.id, entity.count) for entity in result.entities),
        tuple((rule.rule, len(rule.evidence)) for rule in result.rules),
    )


def _insert_inside_words(text: str, positions: list[int], char: str) -> str:
    chars = list(text)
    for position in sorted(positions, reverse=True):
        index = position % (len(chars) + 1)
        before = chars[index - 1] if index else " "
        if "\u0900" <= before <= "\u097f":
            chars.insert(index, char)
    return "".join(chars)


def _precomposed(text: str) -> str:
    for composed, decomposed in NUKTA_LETTERS.items():
        text = text.replace(decomposed, composed)
    return text


def _decomposed(text: str) -> str:
    for composed, decomposed in NUKTA_LETTERS.items():
        text = text.replace(composed, decomposed)
    return text


variants = st.sampled_from(["nfc", "nfd", "precomposed", "decomposed", "nbsp", "crlf", "bom"])
tolerant = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@tolerant
@given(articles, st.lists(st.integers(min_value=0), max_size=8), st.sampled_from(["\u200d", "\u200c"]))
def test_zero_width_joiners_never_change_tags(shipped: Engine, text: str, positions: list[int], joiner: str) -> None:
    assert signature(shipped.tag(_insert_inside_words(text, positions, joiner))) == signature(shipped.tag(text))


@tolerant
@given(articles, st.lists(variants, min_size=1, max_size=4))
def test_form_variants_never_change_tags(shipped: Engine, text: str, changes: list[str]) -> None:
    changed = text
    for change in changes:
        if change == "nfc":
            changed = unicodedata.normalize("NFC", changed)
        elif change == "nfd":
            changed = unicodedata.normalize("NFD", changed)
        elif change == "precomposed":
            changed = _precomposed(changed)
        elif change == "decomposed":
            changed = _decomposed(changed)
        elif change == "nbsp":
            changed = changed.replace(" ", "\u00a0")
        elif change == "crlf":
            changed = changed.replace("\r\n", "\n").replace("\n", "\r\n")
        else:
            changed = "\ufeff" + changed.removeprefix("\ufeff")
    assert signature(shipped.tag(changed)) == signature(shipped.tag(text))


@tolerant
@given(articles, st.lists(st.integers(min_value=0), max_size=5), variants)
def test_evidence_spans_are_the_matched_original_text(
    shipped: Engine, text: str, positions: list[int], change: str
) -> None:
    text = _insert_inside_words(text, positions, "\u200d")
    if change == "decomposed":
        text = _decomposed(text)
    elif change == "crlf":
        text = text.replace("\n", "\r\n")
    explanation = shipped.explain(text)
    for span in explanation.spans:
        assert text[span.start : span.end] == span.text
        # the span alone is found again as the same entity or term group
        assert span.source in {hit.source for hit in shipped.explain(span.text).spans}
    for rule in explanation.result.rules:
        for evidence in rule.evidence:
            assert text[evidence.start : evidence.end] == evidence.text
            assert all(evidence.start <= span.start and span.end <= evidence.end for span in evidence.spans)
