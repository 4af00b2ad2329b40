"""What an event is about, in ids that Hindi and English share: `customs` and `सीमा शुल्क` are both the
subject `#customs`. Story grouping compares these ids like rare words (weighted by how rare they are in
the window), so a Hindi and an English report of one customs accord share more than the two countries,
while a tourism deal between the same two countries on the same day does not.

Pure lookup: each word of the article (``story_features.words_of``) is looked up whole, and by its
prefixes for the forms written with ``*`` (inflections: `workers`, `श्रमिकों`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache

from monitor.engine.normalize import lower, normalize

#: the prefix of a subject id among an article's words (never a skeleton: those are consonants and digits)
SUBJECT = "#"

#: subject -> its words in English and Hindi (`*`: any word that begins so). Broad subjects of bilateral
#: news, not one event's words: what tells one accord or shipment from another between the same countries.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "customs": ("customs", "tariff*", "शुल्क", "सीमाशुल्क", "कस्टम*"),
    "labour": ("labour", "labor", "worker*", "workforce", "श्रमिक*", "मजदूर*", "कामगार*", "श्रम", "लेबर"),
    "tourism": ("touris*", "resort*", "पर्यटन", "पर्यटक*", "टूरिज्म", "टूरिस्ट*", "रिसॉर्ट*"),
    "health": ("health", "medic*", "hospital*", "vaccin*", "स्वास्थ्य", "चिकित्सा", "अस्पताल*", "वैक्सीन", "टीके"),
    "fuel": ("fuel*", "oil", "petrol*", "diesel", "ईंधन", "तेल", "पेट्रोल*", "डीजल"),
    "gas": ("gas", "pipeline*", "गैस", "पाइपलाइन"),
    "coal": ("coal", "कोयला", "कोयले"),
    "grain": ("wheat", "grain*", "flour", "गेहूं", "गेहूँ", "अनाज", "आटा"),
    "fishing": ("fish*", "मछली", "मछलियों", "मत्स्य", "मछुआर*"),
    "rail": ("rail*", "train*", "रेल*", "ट्रेन*"),
    "bridge": ("bridge*", "पुल", "ब्रिज"),
    "road": ("road*", "highway*", "सड़क*", "राजमार्ग"),
    "port": ("port", "ports", "harbour*", "harbor*", "बंदरगाह*", "पोर्ट"),
    "shipping": ("ship", "ships", "shipping", "vessel*", "ferry", "ferries", "cargo", "जहाज*", "पोत", "फेरी", "कार्गो"),
    "flights": ("flight*", "airline*", "airport*", "aviation", "उड़ान*", "विमान*", "हवाई", "एयरलाइन*"),
    "electricity": ("electric*", "grid", "बिजली", "विद्युत", "ग्रिड"),
    "nuclear": ("nuclear", "atomic", "reactor*", "परमाणु", "न्यूक्लियर", "रिएक्टर"),
    "space": ("satellite*", "rocket*", "उपग्रह*", "सैटेलाइट", "अंतरिक्ष", "रॉकेट"),
    "missiles": ("missile*", "मिसाइल*"),
    "artillery": ("shell", "shells", "artillery", "ammunition", "munitions", "गोले", "गोला", "तोपखाने", "गोला-बारूद"),
    "troops": ("troop*", "soldier*", "सैनिक*", "फौज*", "टुकड़ी"),
    "navy": ("warship*", "navy", "naval", "fleet", "युद्धपोत*", "नौसेना*", "नौसैनिक"),
    "drills": ("drill*", "exercise*", "अभ्यास"),
    "visa": ("visa*", "वीज़ा", "वीजा"),
    "education": ("student*", "universit*", "scholarship*", "छात्र*", "विश्वविद्यालय*", "छात्रवृत्ति"),
    "culture": ("cultur*", "circus", "theatre", "सांस्कृतिक", "संस्कृति", "सर्कस"),
    "sport": ("sport*", "football*", "athlete*", "खेल", "फुटबॉल", "खिलाड़ी*"),
    "payments": ("bank*", "payment*", "rouble*", "ruble*", "currency", "बैंक*", "भुगतान", "रूबल", "मुद्रा"),
    "sanctions": ("sanction*", "प्रतिबंध*"),
    "trade": ("trade", "export*", "import*", "व्यापार*", "निर्यात", "आयात"),
    "investment": ("invest*", "निवेश*"),
    "science": ("scien*", "research*", "विज्ञान", "वैज्ञानिक", "अनुसंधान", "शोध"),
    "agriculture": ("agricultur*", "farm*", "fertili*", "कृषि", "खेती", "किसान*", "उर्वरक"),
    "parliament": ("parliament*", "duma", "lawmaker*", "संसद*", "ड्यूमा", "सांसद*"),
    "aid": ("humanitarian", "मानवीय"),
    "telecom": ("telecom*", "internet", "broadband", "इंटरनेट", "दूरसंचार"),
    "weapons": ("weapon*", "हथियार*"),
    "drones": ("drone*", "ड्रोन"),
    "cyber": ("cyber*", "hacker*", "hacking", "साइबर", "हैकर*"),
}


def _folded(word: str) -> str:
    return lower(normalize(word).text)


@cache
def _tables() -> tuple[dict[str, str], dict[str, str], tuple[int, ...]]:
    """(whole word -> subject, prefix -> subject, the prefix lengths to try, longest first)."""
    whole: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for subject, forms in SUBJECTS.items():
        for form in forms:
            if form.endswith("*"):
                prefixes[_folded(form[:-1])] = subject
            else:
                whole[_folded(form)] = subject
    return whole, prefixes, tuple(sorted({len(prefix) for prefix in prefixes}, reverse=True))


@lru_cache(maxsize=1 << 15)
def _subject_id(word: str) -> str | None:
    """The subject id one word names (remembered: an article's words are mostly those of the ones before)."""
    whole, prefixes, lengths = _tables()
    subject = whole.get(word)
    if subject is None:
        subject = next((prefixes[word[:n]] for n in lengths if n <= len(word) and word[:n] in prefixes), None)
    return None if subject is None else f"{SUBJECT}{subject}"


def subjects(words: Iterable[str]) -> frozenset[str]:
    """The subject ids (`#customs`) the words name, whatever their language."""
    found = set(map(_subject_id, set(words)))
    found.discard(None)
    return frozenset(found)  # type: ignore[arg-type]
