"""One test per text phenomenon of issue 3, on the shipped watchlists, with our own sentences."""

from __future__ import annotations

import pytest

from monitor.engine import Engine
from monitor.engine.normalize import normalize


def entities(engine: Engine, text: str) -> set[str]:
    return {entity.id for entity in engine.tag(text).entities}


def rules(engine: Engine, text: str) -> set[str]:
    return {rule.rule for rule in engine.tag(text).rules}


AGREEMENT = "russia-dprk-agreement"


def test_nukta_precomposed_decomposed_and_absent_agree(shipped: Engine) -> None:
    precomposed = "रूस और उत्तर कोरिया के बीच \u0958रार हुआ।"
    decomposed = "रूस और उत्तर कोरिया के बीच \u0915\u093cरार हुआ।"
    plain = "रूस और उत्तर कोरिया के बीच करार हुआ।"
    assert rules(shipped, precomposed) == rules(shipped, decomposed) == rules(shipped, plain) == {AGREEMENT}


def test_zero_width_joiners_inside_words(shipped: Engine) -> None:
    assert "north-korea" in entities(shipped, "उत्\u200dतर को\u200cरिया ने बयान दिया।")


def test_hyphens_dashes_and_nbsp_separate_words(shipped: Engine) -> None:
    for joined in ("रूस-उत्तर कोरिया समझौता", "रूस–उत्तर कोरिया समझौता", "रूस\u00a0और उत्तर\u00a0कोरिया का समझौता"):
        assert rules(shipped, joined) == {AGREEMENT}, joined


def test_chandrabindu_folds_to_anusvara() -> None:
    assert normalize("पहुँचे").text == normalize("पहुंचे").text


def test_nasal_consonant_with_virama_equals_anusvara() -> None:
    assert normalize("हिन्दी सम्बन्ध").text == normalize("हिंदी संबंध").text


def test_candra_vowels_fold(shipped: Engine) -> None:
    assert "wonsan" in entities(shipped, "नेता वॉनसन पहुंचे।")
    assert "russia" in entities(shipped, "मॉस्को में बैठक हुई।")


@pytest.mark.parametrize(
    ("spelling", "entity"),
    [
        ("व्लादीमीर पुतिन", "vladimir-putin"),
        ("ब्लादिमीर पूतिन", "vladimir-putin"),
        ("वोनसान", "wonsan"),
        ("वोन्सान", "wonsan"),
        ("वोनसन", "wonsan"),
        ("चोए सोन-हुई", "choe-son-hui"),
        ("चोई सोन हुई", "choe-son-hui"),
        ("लावरोफ़", "sergei-lavrov"),
        ("किम जॉन्ग-उन", "kim-jong-un"),
        ("Kim Jong-un", "kim-jong-un"),
        ("Choe Son-hui", "choe-son-hui"),
        ("DPRK", "north-korea"),
        ("डीपीआरके", "north-korea"),
        ("प्योंगयाँग", "north-korea"),
        ("यूएस", "usa"),
        ("U.S.", "usa"),
    ],
)
def test_other_spellings_of_names(shipped: Engine, spelling: str, entity: str) -> None:
    assert entity in entities(shipped, f"खबर है कि {spelling} ने कहा।")


def test_spelling_folding_is_only_for_names_that_opt_in(shipped: Engine) -> None:
    # रूस does not fold: a long vowel written short is another word
    assert "russia" not in entities(shipped, "रुस ने कहा।")


def test_inflections_from_paradigms(shipped: Engine) -> None:
    assert entities(shipped, "रूसियों और जापानियों ने देखा।") == {"russia", "japan"}
    assert rules(shipped, "रूस और उत्तर कोरिया ने कई समझौतों पर बात की।") == {AGREEMENT}
    assert rules(shipped, "रूस और उत्तर कोरियाई अधिकारियों के समझौते हुए।") == {AGREEMENT}


def test_no_match_inside_longer_devanagari_words(shipped: Engine) -> None:
    assert "russia" not in entities(shipped, "क्रूस पर ब्रूस और रूसो की किताब।")
    assert "north-korea" in entities(shipped, "यह उत्तर कोरिया। फिर")


def test_no_match_inside_longer_latin_words(shipped: Engine) -> None:
    assert entities(shipped, "Prussian Russians? No: Russiaville and Chinatown.") == {"russia"}


def test_south_korea_is_never_north_korea(shipped: Engine) -> None:
    text = "दक्षिण कोरिया और दक्षिण कोरियाई सेना कोरियाई प्रायद्वीप पर हैं।"
    assert entities(shipped, text) == {"south-korea"}


def test_us_pronoun_is_not_the_country(shipped: Engine) -> None:
    assert "usa" not in entities(shipped, "Let us talk about it, said the envoy.")
    assert "usa" in entities(shipped, "The US warned Moscow.")


def test_english_and_mixed_agreement(shipped: Engine) -> None:
    assert rules(shipped, "Russia and North Korea signed a defence treaty.") >= {AGREEMENT}
    assert rules(shipped, "Russia और उत्तर कोरिया ने MoU पर हस्ताक्षर किए।") == {AGREEMENT}


def test_alliance_alone_is_not_an_agreement(shipped: Engine) -> None:
    assert AGREEMENT not in rules(shipped, "रूस और उत्तर कोरिया का गठबंधन और साझेदारी मजबूत हुई।")


def test_agreement_with_a_third_country_then_north_korea_next_sentence(shipped: Engine) -> None:
    text = "रूस ने ईरान के साथ समझौता किया। उत्तर कोरिया ने इसकी तारीफ की।"
    assert AGREEMENT not in rules(shipped, text)


def test_denial_in_the_sentence_vetoes(shipped: Engine) -> None:
    assert AGREEMENT not in rules(shipped, "रूस ने उत्तर कोरिया के साथ किसी समझौते से इनकार किया।")
    assert AGREEMENT not in rules(shipped, "Moscow denied any pact with Pyongyang.")
    assert AGREEMENT not in rules(shipped, "क्रेमलिन ने उत्तर कोरिया से डील की खबर ख़ारिज की।")


def test_denial_in_another_sentence_does_not_veto(shipped: Engine) -> None:
    text = "रूस और उत्तर कोरिया ने संधि की। अमेरिका ने इनकार किया कि उसे खबर थी।"
    assert AGREEMENT in rules(shipped, text)


def test_line_break_ends_a_sentence(shipped: Engine) -> None:
    assert AGREEMENT not in rules(shipped, "रूस का बयान\nउत्तर कोरिया ने समझौता किया")


def test_full_stops_in_abbreviations_and_numbers_do_not_end_sentences(shipped: Engine) -> None:
    assert AGREEMENT in rules(shipped, "The U.S. said Russia signed a 3.5 billion deal with North Korea.")


def test_read_also_lines_are_dropped(shipped: Engine) -> None:
    for marker in ("इसे भी पढ़ें:", "यह भी पढ़ेंः", "ये भी पढ़ें -", "Also Read:", "Read more"):
        result = shipped.tag(f"जापान का बयान\n\n{marker} चीन और रूस की खबर\nबाकी खबर।")
        assert {entity.id for entity in result.entities} == {"japan"}, marker
        assert len(result.notes) == 1


def test_tag_lines_are_dropped(shipped: Engine) -> None:
    assert entities(shipped, "जापान का बयान।\nCHINA, US, RUSSIA\nकुछ और।") == {"japan"}


def test_kim_look_alikes_are_excluded(shipped: Engine) -> None:
    assert "kim-jong-un" not in entities(shipped, "किम जोंग इल और किम यो जोंग आए। Kim Jong Il too.")
    assert "kim-jong-un" in entities(shipped, "किम जोंग रूस पहुंचे।")


def test_military_rule(shipped: Engine) -> None:
    assert "russia-dprk-military" in rules(shipped, "उत्तर कोरिया रूस को तोपखाने के गोले और मिसाइलें भेज रहा है।")
    assert "russia-dprk-military" in rules(shipped, "Russia may share satellite technology with North Korea.")
    # military words without anything passing between the two sides
    assert "russia-dprk-military" not in rules(shipped, "लावरोव ने उत्तर कोरिया के पास सैन्य जमावड़े की आलोचना की।")


def test_meeting_rule(shipped: Engine) -> None:
    assert rules(shipped, "पुतिन ने किम जोंग उन से मुलाकात की।") == {"russia-dprk-meeting"}
    assert "russia-dprk-meeting" in rules(shipped, "Lavrov held talks with Choe Son Hui in Wonsan.")
    assert "russia-dprk-meeting" not in rules(shipped, "रूस और उत्तर कोरिया के बीच व्यापार बढ़ा।")


def test_evidence_spans_point_into_the_original_text(shipped: Engine) -> None:
    text = "\ufeffरूस और उत्\u200dतर कोरिया ने \u0915\u093cरार पर\u00a0हस्ताक्षर किए।\r\nदूसरी पंक्ति।"
    (rule,) = shipped.tag(text).rules
    (evidence,) = rule.evidence
    assert text[evidence.start : evidence.end] == evidence.text
    assert evidence.text.startswith("रूस") and evidence.text.endswith("।")
    assert {span.text: span.source for span in evidence.spans} == {
        "रूस": "russia",
        "उत्\u200dतर कोरिया": "north-korea",
        "\u0915\u093cरार": "terms:agreement",
        "हस्ताक्षर": "terms:agreement",
    }


def test_crlf_and_bom_give_the_same_result(shipped: Engine) -> None:
    text = "रूस का बयान\nरूस और उत्तर कोरिया ने संधि की।\n\nपुतिन ने किम जोंग उन से मुलाकात की।"
    plain = shipped.tag(text)
    windows = shipped.tag("\ufeff" + text.replace("\n", "\r\n"))
    assert [(e.id, e.count) for e in plain.entities] == [(e.id, e.count) for e in windows.entities]
    assert [r.rule for r in plain.rules] == [r.rule for r in windows.rules]


def test_explain_says_which_group_is_missing_and_what_vetoed(shipped: Engine) -> None:
    text = "रूस ने समझौता किया।\nरूस ने उत्तर कोरिया के साथ समझौते से इनकार किया।"
    explanation = shipped.explain(text)
    agreement = next(rule for rule in explanation.rules if rule.rule == AGREEMENT)
    assert not agreement.fired
    first, second = agreement.passages
    assert first.missing == ("North Korean side",)
    assert [span.text for span in second.vetoed_by] == ["इनकार"]
    assert "vetoed" in agreement.summary


@pytest.mark.parametrize(
    ("composed", "decomposed"),
    [
        ("Café", "Cafe\u0301"),
        ("কো", "\u0995\u09c7\u09be"),  # Bengali o-sign written as e-sign + aa-sign
        ("Ångström", "A\u030angstro\u0308m"),
    ],
)
def test_text_is_composed_in_every_script(composed: str, decomposed: str) -> None:
    assert normalize(decomposed).text == normalize(composed).text
    # and the way back still points at the original characters
    normalized = normalize(f"x {decomposed} y")
    start = normalized.to_original.start(2)
    end = normalized.to_original.end(2 + len(composed))
    assert normalized.original[start:end] == decomposed
