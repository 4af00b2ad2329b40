"""Article text made safe for an analyst's terminal: whoever writes an article must not be able to
retitle the window, clear the screen, hide text or reorder it (escape sequences, control characters,
bidi overrides). Every command that prints article-derived text goes through here."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from itertools import pairwise

from rich.console import Console
from rich.text import Text

#: whole escape sequences, dropped with their payload: CSI (`ESC [` or 8-bit CSI ... final byte), OSC,
#: DCS, SOS, PM and APC strings (to BEL or ST), and the two-byte ESC sequences
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
#: what is left after the sequences: C0 except tab and newline, DEL, C1, and the bidi embeddings,
#: overrides and isolates (U+202A-U+202E, U+2066-U+2069) that reorder what the reader sees
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: the same without newline and tab, for one-line fields (a title, a path)
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: what JSON leaves raw (it escapes only C0): DEL, C1 and the bidi controls
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str, *, one_line: bool = False) -> str:
    """`text` without escape sequences and control characters; `one_line` drops newlines and tabs too
    (a title or path is printed on one line)."""
    if text.isprintable():
        return text  # the common case: isprintable is false for any control or format character
    return (_CONTROL_OR_BREAK if one_line else _CONTROL).sub("", _SEQUENCE.sub("", text))


def json_line(value: object) -> str:
    """One JSON line as ``json.dumps(ensure_ascii=False)``, with DEL, C1 and bidi controls escaped
    (`\\u009b`) like JSON escapes C0: the data is unchanged for a parser, inert on a terminal."""
    line = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", line)


def highlighted(text: str, offset: int, spans: Iterable[tuple[int, int, str]]) -> Text:
    """A passage that starts at `offset` in the article with each `(start, end, style)` span styled
    (a later span over an earlier one wins), made safe piece by piece between span edges, so that
    stripping never shifts a highlight."""
    wanted = [(max(0, start - offset), min(len(text), end - offset), style) for start, end, style in spans]
    edges = sorted({0, len(text), *(edge for start, end, _ in wanted for edge in (start, end))})
    moved: dict[int, int] = {0: 0}
    out = Text()
    for start, end in pairwise(edges):
        out.append(safe_text(text[start:end]))
        moved[end] = len(out)
    for start, end, style in wanted:
        if start < end:
            out.stylize(style, moved[start], moved[end])
    return out


def console(*, stderr: bool = False) -> Console:
    """The rich Console of the commands that print articles: no syntax highlighting of article text,
    and no hard wrap at 80 columns when the output is a pipe or file (a reader gets whole lines)."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, soft_wrap=not stream.isatty())
