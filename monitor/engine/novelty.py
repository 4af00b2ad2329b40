"""A trigger's novelty from the time cues of its clause: the nearest decides, a comma sets cues apart."""

from __future__ import annotations

from typing import NamedTuple

from monitor.engine.result import Novelty
from monitor.engine.sides import Cue

#: the time cues, nearest to the trigger wins; a pluperfect counts only without any of these
TIME_KINDS: dict[str, Novelty] = {"recent": "new", "past": "reference", "speculative": "speculative"}


class Verdict(NamedTuple):
    """What one trigger hit asserts: `novelty` None when vetoed (by `vetoes`); `cue` decided it. A named
    tuple: built per trigger hit, a frozen dataclass (one `object.__setattr__` a field) cost three times
    as much."""

    novelty: Novelty | None
    vetoes: tuple[Cue, ...] = ()
    cue: Cue | None = None


#: how much farther a cue counts when a comma stands between it and the trigger
COMMA_DISTANCE = 1000


def nearest_novelty(text: str, timed: list[Cue], pluperfect: list[Cue], start: int, end: int) -> Verdict:
    """The time cue nearest the trigger decides, a cue beyond a comma only when none is on the trigger's
    side of it ("Russia and North Korea, bound by a 2024 treaty, held talks on Friday": the year dates
    the treaty; "… करार किया, जिस पर पिछले साल से बातचीत चल रही थी" with मंगलवार को before it: the
    signing is Tuesday's); a speculative cue on the same side beats a recent one ("expected to sign …
    this week" is still to come); a pluperfect only without any other time cue."""

    def distance(cue: Cue) -> int:
        low, high = (cue.end, start) if cue.end <= start else (end, cue.start)
        apart = max(high - low, 0)
        return apart + COMMA_DISTANCE if text.find(",", low, high) >= 0 else apart

    if len(timed) == 1:  # the usual clause: its one time cue decides (nothing to weigh it against)
        (nearest,) = timed
        return Verdict(TIME_KINDS[nearest.kind], cue=nearest)
    if timed:
        nearest = min(timed, key=distance)
        if nearest.kind == "recent":
            beyond = distance(nearest) >= COMMA_DISTANCE
            speculative = [
                cue for cue in timed if cue.kind == "speculative" and (beyond or distance(cue) < COMMA_DISTANCE)
            ]
            if speculative:
                nearest = min(speculative, key=distance)
        return Verdict(TIME_KINDS[nearest.kind], cue=nearest)
    if pluperfect:
        return Verdict("reference", cue=min(pluperfect, key=distance))
    return Verdict("new")
