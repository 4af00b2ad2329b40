"""The story book's undo ledger, per batch: batches commit out of order (a large article set aside commits
beside the main batches), so each batch places under a token of its own and its rollback must undo its
own articles only, even in a story another batch joined since (that story is rebuilt from the additions
of the others)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Generic, Protocol, TypeVar

from monitor.story_features import StoryArticle


class Snapshot(Protocol):
    articles: int

    def copy(self) -> Snapshot: ...


S = TypeVar("S", bound=Snapshot)


@dataclass(frozen=True, slots=True)
class _Joined(Generic[S]):
    """One article a batch (``token``) added to a story, and the story before it."""

    token: int
    article: StoryArticle
    before: S
    #: its alerts went out (a silent one's did not: without the article that opened, the next one opens)
    alerted: bool


class StoryLog(Generic[S]):
    """Token 0 is a placement settled at once (kept only while an unsettled one precedes it in its story)."""

    def __init__(self) -> None:
        #: token -> (story id, article key) it placed, while neither settled nor rolled back
        self._pending: dict[int, list[tuple[str, str]]] = {}
        self._tokens = count(1)
        #: story id -> what was added to it since its oldest unsettled addition
        self._history: dict[str, list[_Joined[S]]] = {}

    def mark(self) -> int:
        token = next(self._tokens)
        self._pending[token] = []
        return token

    def busy(self, sid: str) -> bool:
        """Some unsettled batch added to this story (it must not be pruned meanwhile)."""
        return sid in self._history

    def record(self, token: int, sid: str, article: StoryArticle, before: S, alerted: bool) -> None:
        if token in self._pending:
            self._pending[token].append((sid, article.key))
        if token in self._pending or sid in self._history:
            self._history.setdefault(sid, []).append(_Joined(token, article, before, alerted))
            self._trim(sid)

    def settle(self, token: int | None) -> None:
        for done in list(self._pending) if token is None else [token]:
            for sid in dict.fromkeys(sid for sid, _ in self._pending.pop(done, [])):
                self._trim(sid)

    def rollback(self, token: int, absorb: Callable[[S, StoryArticle, bool], None]) -> tuple[list[str], dict[str, S]]:
        """The article keys ``token`` placed, and each story it touched as it is without them: the story
        before the token's first article, with the later articles of other batches ``absorb``ed again."""
        placed = self._pending.pop(token, [])
        rebuilt: dict[str, S] = {}
        for sid in dict.fromkeys(sid for sid, _ in placed):
            history = self._history.get(sid, [])
            first = next((i for i, joined in enumerate(history) if joined.token == token), None)
            if first is None:
                continue
            story, kept = history[first].before, history[:first]
            story = story.copy()  # type: ignore[assignment]
            for joined in history[first + 1 :]:
                if joined.token != token:
                    kept.append(_Joined(joined.token, joined.article, story.copy(), joined.alerted))  # type: ignore[arg-type]
                    absorb(story, joined.article, joined.alerted)
            self._history[sid] = kept
            self._trim(sid)
            rebuilt[sid] = story
        return [key for _, key in reversed(placed)], rebuilt

    def _trim(self, sid: str) -> None:
        """What precedes a story's oldest unsettled addition will never be undone: forget it."""
        history = self._history.get(sid, [])
        while history and history[0].token not in self._pending:
            history.pop(0)
        if not history:
            self._history.pop(sid, None)
