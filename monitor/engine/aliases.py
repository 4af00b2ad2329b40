"""One alias: its inflected forms and what is wrong with it, each problem at the alias's line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.engine.normalize import normalize_phrase
from monitor.engine.watchlist import AliasSpec, LoadedFile, Paradigm, dotted
from monitor.problems import Problem

MIN_ALIAS_LENGTH = 3

#: everyday words and common names that a paradigm makes out of a country or name (`भारत` + `ी` is the
#: name `भारती`, as in Bharti Airtel; `चीन` + `ी` is sugar): `monitor check` warns when a generated form
#: is one of them, since it would match far more than the alias meant
COMMON_WORDS = frozenset(
    normalize_phrase(word)
    for word in (
        "भारती",  # a given name; Bharti Airtel
        "चीनी",  # sugar (and Chinese)
        "मिस्री",  # rock sugar (and Egyptian)
        "ईरानी",  # a surname (and Iranian)
        "अरबी",  # taro, a vegetable (and Arabic)
        "पोली",  # a flatbread (and Polish, from पोल)
    )
)


@dataclass(frozen=True, slots=True)
class Located:
    """An item of a loaded file with its key path, for problems that point at a line."""

    file: LoadedFile
    keys: tuple[str | int, ...]

    def more(self, *more_keys: str | int) -> Located:
        return Located(self.file, (*self.keys, *more_keys))

    def problem(self, message: str, *more_keys: str | int, warning: bool = False) -> Problem:
        keys = (*self.keys, *more_keys)
        return Problem(
            self.file.path, dotted(keys), message, self.file.line_of(*keys), "warning" if warning else "error"
        )


def alias_forms(alias: AliasSpec, paradigms: dict[str, Paradigm]) -> list[str]:
    """The alias and its allowed inflections, each normalized as a whole, like the text it must
    match (`हिन्` + `दी` is `हिंदी`, as the text's `हिन्दी` becomes)."""
    base = normalize_phrase(alias.text)
    if alias.forms is not None:
        paradigm = paradigms[alias.forms]
        stem = base.removesuffix(normalize_phrase(paradigm.stem)) if paradigm.stem else base
        return [normalize_phrase(stem + ending) for ending in paradigm.endings]
    if alias.suffixes is not None:
        return [normalize_phrase(base + suffix) for suffix in alias.suffixes]
    return [base]


_DEVANAGARI_WORD = re.compile(r"[\u0900-\u097f]+")


def joined(form: str) -> str | None:
    """A phrase of Devanagari words as Hindi outlets also write it, as one word (`नॉर्थ कोरिया` ->
    `नॉर्थकोरिया`); None for a single word or a phrase with a word in another script."""
    words = form.split(" ")
    if len(words) < 2 or not all(_DEVANAGARI_WORD.fullmatch(word) for word in words):
        return None
    return "".join(words)


def key_forms(alias: AliasSpec, paradigms: dict[str, Paradigm]) -> list[str]:
    """What the automaton looks for: `alias_forms`, and each Devanagari phrase joined into one word
    (unless the alias says `joined: false`)."""
    forms = alias_forms(alias, paradigms)
    if alias.joined is False:
        return forms
    more = [one for form in forms if (one := joined(form)) is not None]
    return list(dict.fromkeys([*forms, *more]))


def check_alias(
    alias: AliasSpec, where: Located, paradigms: dict[str, Paradigm], short_ok: bool = False
) -> list[Problem]:
    """`short_ok`: clause cues are function words (`no`, `if`, `न`), short by nature."""
    problems = []
    if alias.forms is not None and alias.suffixes is not None:
        problems.append(where.problem("give either forms or suffixes, not both"))
    if alias.forms is not None:
        paradigm = paradigms.get(alias.forms)
        if paradigm is None:
            problems.append(where.problem(f"unknown paradigm {alias.forms!r}", "forms"))
        elif paradigm.stem and not normalize_phrase(alias.text).endswith(normalize_phrase(paradigm.stem)):
            problems.append(where.problem(f"paradigm {alias.forms!r} needs an alias ending in {paradigm.stem!r}"))
        else:
            problems.extend(_common_forms(alias, where, paradigms))
    if alias.fold and alias.case:
        problems.append(where.problem("a case-sensitive alias cannot also fold spelling variants"))
    length = len(normalize_phrase(alias.text).replace(" ", ""))
    if length < MIN_ALIAS_LENGTH and not alias.case and not short_ok:
        problems.append(
            where.problem(f"alias {alias.text!r} is too short ({length} letters); mark an acronym `case: true`")
        )
    if alias.case and not re.search("[A-Za-z]", alias.text):
        problems.append(where.problem("`case: true` only makes sense for Latin letters"))
    if alias.joined and joined(normalize_phrase(alias.text)) is None:
        problems.append(where.problem("`joined: true` needs a phrase whose words are all Devanagari"))
    return problems


def _common_forms(alias: AliasSpec, where: Located, paradigms: dict[str, Paradigm]) -> list[Problem]:
    """A warning for each generated form (not the alias itself) that is a common word or name."""
    written = normalize_phrase(alias.text).lower()
    return [
        where.problem(
            f"form {form!r} of {alias.text!r} (paradigm {alias.forms!r}) is also a common word or name and will "
            "match it; list the wanted endings with `suffixes` instead",
            warning=True,
        )
        for form in dict.fromkeys(alias_forms(alias, paradigms))
        if form.lower() != written and form.lower() in COMMON_WORDS
    ]
