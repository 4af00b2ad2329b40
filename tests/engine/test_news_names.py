"""What real Hindi and English news writes (issue 12, item 4): Devanagari-English names written as two
words or one, English adjectives in Devanagari, transliterations, surnames, a sea named after a country."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.engine import Engine, WatchlistError, load_engine
from monitor.engine.normalize import fold, fold_with_deletions

AGREEMENT = "russia-dprk-agreement"


def entities(engine: Engine, text: str) -> set[str]:
    return {entity.id for entity in engine.tag(text).entities}


def counts(engine: Engine, text: str) -> dict[str, int]:
    return {entity.id: entity.count for entity in engine.tag(text).entities}


def engine_of(folder: Path, text: str) -> Engine:
    (folder / "w.yaml").write_text(text, encoding="utf-8")
    return load_engine([folder])


# --- a Devanagari phrase also matches written as one word


@pytest.mark.parametrize(
    ("written", "entity"),
    [
        ("नॉर्थकोरिया", "north-korea"),
        ("नॉर्थ कोरिया", "north-korea"),
        ("साउथकोरिया", "south-korea"),
        ("उत्तरकोरिया", "north-korea"),
        ("किमजोंग उन", "kim-jong-un"),
    ],
)
def test_a_devanagari_phrase_matches_written_as_one_word(shipped: Engine, written: str, entity: str) -> None:
    assert entities(shipped, f"खबर है कि {written} ने कहा।") == {entity}


def test_joined_forms_are_whole_words_and_can_be_turned_off(tmp_path: Path) -> None:
    engine = engine_of(
        tmp_path,
        """
entities:
  - {id: a, name: A, kind: place, aliases: {hi: [लाल किला]}}
  - {id: b, name: B, kind: place, aliases: {hi: [{text: नीला घर, joined: false}], en: [Blue House]}}
""",
    )
    assert entities(engine, "लालकिला देखा") == {"a"}
    assert entities(engine, "बालालकिला देखा") == set()
    assert entities(engine, "नीलाघर देखा") == set()
    assert entities(engine, "नीला घर देखा") == {"b"}


def test_joined_true_needs_a_devanagari_phrase(tmp_path: Path) -> None:
    text = "entities:\n  - {id: a, name: A, kind: place, aliases: {en: [{text: Red Fort, joined: true}]}}\n"
    with pytest.raises(WatchlistError, match="joined"):
        engine_of(tmp_path, text)


# --- English names and adjectives in Devanagari, by paradigm


def test_english_country_names_in_devanagari_take_their_english_forms(shipped: Engine) -> None:
    assert entities(shipped, "रशियन सेना और रशियंस पहुंचे।") == {"russia"}
    assert entities(shipped, "नॉर्थ कोरियन सैनिक आए।") == {"north-korea"}
    assert entities(shipped, "साउथ कोरियन अधिकारी बोले।") == {"south-korea"}


def test_english_forms_in_devanagari_never_match_inside_other_words(shipped: Engine) -> None:
    assert entities(shipped, "परशियन कालीन और रशियनवाद।") == set()


def test_seoul_in_either_spelling_but_never_inside_solar_or_sixteen(shipped: Engine) -> None:
    assert entities(shipped, "सोल। दक्षिण की राजधानी") == {"south-korea"}
    assert entities(shipped, "सियोल में बैठक") == {"south-korea"}
    assert entities(shipped, "सोलर पैनल सोलह रुपये के") == set()


@pytest.mark.parametrize(
    ("written", "entity"),
    [
        ("N. Korea", "north-korea"),
        ("N. Korean", "north-korea"),
        ("S. Korea", "south-korea"),
        ("DPRK", "north-korea"),
        ("the Democratic People's Republic of Korea", "north-korea"),
        ("the Republic of Korea", "south-korea"),
    ],
)
def test_english_short_and_full_names(shipped: Engine, written: str, entity: str) -> None:
    assert entities(shipped, f"Officials said {written} would respond.") == {entity}


# --- transliterated names fold their Latin spellings when they opt in


@pytest.mark.parametrize("written", ["Choe Son Hui", "Cho Song Hui", "Choe Son-hui", "Choe Son-Hui", "Choo Son Hui"])
def test_transliterations_of_a_name_fold_to_one(shipped: Engine, written: str) -> None:
    assert entities(shipped, f"Foreign Minister {written} arrived.") == {"choe-son-hui"}


def test_latin_folding_is_only_for_aliases_that_opt_in(tmp_path: Path) -> None:
    engine = engine_of(
        tmp_path,
        """
entities:
  - {id: folded, name: F, kind: person, fold: true, aliases: {en: [Pak Jong Chon]}}
  - {id: plain, name: P, kind: person, aliases: {en: [Ri Song Gil]}}
""",
    )
    assert entities(engine, "Pak Jon Choon spoke.") == {"folded"}
    assert entities(engine, "Ri Son Gil spoke.") == set()
    assert entities(engine, "Ri Song Gil spoke.") == {"plain"}


@pytest.mark.parametrize("text", ["Cho Song Hui, Kim Jong-un", "choe son-hui and the Kimm Jongg", "Zoo wooing रूस"])
def test_latin_folding_keeps_the_way_back_to_the_text(text: str) -> None:
    folded, deletions = fold_with_deletions(text)
    assert folded == fold(text)
    assert len(text) == len(folded) + len(deletions)


# --- a surname alone is the person only where the article names them in full


def test_a_surname_counts_where_the_article_names_the_person_in_full(shipped: Engine) -> None:
    text = "Kim Jong Un arrived in Vladivostok.\n\nLater, Kim met the press."
    assert counts(shipped, text)["kim-jong-un"] == 2
    assert "kim-jong-un" not in entities(shipped, "South Korea's minister Kim said the talks failed.")


def test_a_hindi_surname_counts_with_the_full_name_in_either_script(shipped: Engine) -> None:
    assert counts(shipped, "Kim Jong Un मॉस्को पहुंचे। किम ने कहा कि दौरा अच्छा रहा।")["kim-jong-un"] == 2
    assert "kim-jong-un" not in entities(shipped, "दक्षिण कोरिया के मंत्री किम ने कहा।")


def test_a_surname_inside_a_look_alike_is_not_the_person(shipped: Engine) -> None:
    text = "Kim Jong Un spoke. Kim Yo Jong, his sister, issued a statement."
    assert counts(shipped, text)["kim-jong-un"] == 1


def test_a_surname_may_complete_a_rule_once_the_person_is_named(shipped: Engine) -> None:
    text = "किम जोंग उन मॉस्को पहुंचे।\nरूस और किम ने नए समझौते पर हस्ताक्षर किए।"
    assert AGREEMENT in {rule.rule for rule in shipped.tag(text).rules}
    alone = "रूस और किम ने नए समझौते पर हस्ताक्षर किए।"
    assert AGREEMENT not in {rule.rule for rule in shipped.tag(alone).rules}


def test_coref_aliases_in_the_watchlist_language(tmp_path: Path) -> None:
    engine = engine_of(
        tmp_path,
        """
entities:
  - id: ada
    name: Ada Lovelace
    kind: person
    aliases:
      en: [Ada Lovelace, {text: Lovelace, coref: true}]
""",
    )
    assert counts(engine, "Ada Lovelace wrote. Lovelace was right.") == {"ada": 2}
    assert counts(engine, "Lovelace was right.") == {}


# --- a sea named after a country is not the country


def test_the_sea_of_japan_is_not_japan(shipped: Engine) -> None:
    assert entities(shipped, "North Korea fired missiles into the Sea of Japan, which Koreans call the East Sea.") == {
        "north-korea"
    }
    assert entities(shipped, "उत्तर कोरिया ने जापान सागर में मिसाइलें दागीं।") == {"north-korea"}
    assert "japan" in entities(shipped, "Japan protested the launch into the Sea of Japan.")


# --- watchlist fixes


def test_ministers_plural_and_the_continuous_transfer_verbs(shipped: Engine) -> None:
    meeting = "रूस और उत्तर कोरिया के विदेश मंत्रियों की मुलाकात हुई।"
    assert "russia-dprk-meeting" in {rule.rule for rule in shipped.tag(meeting).rules}
    military = "उत्तर कोरिया रूस को मिसाइलें दे रहा है।"
    assert "russia-dprk-military" in {rule.rule for rule in shipped.tag(military).rules}
