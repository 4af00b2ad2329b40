"""Stories: which articles report the same event, and whether an article's alerts open the story, follow it
up or stay silent. Pure (no I/O): the store thread feeds it articles in commit order and persists what it
decided in the same transaction as the outbox; a rolled-back batch is undone here too.

How an article is placed, in order:

1. **Near-duplicate.** An article whose MinHash signature estimates a Jaccard similarity of at least
   ``near_duplicate`` (word 3-shingles) with an article of the window joins that article's story, always: a
   wire copy with a sentence and the byline changed never opens a story of its own.
2. **Similar.** Otherwise the best open story within the window whose similarity (below) reaches
   ``threshold``; stories are found through an inverted index from the article's rarest features, at most
   ``candidates`` of them, so a placement costs the same with 100 or 100,000 articles in the window.
3. Otherwise the article opens a story; its id comes from the opening article's content hash.

Similarity of an article A to a story S (the union of its articles' features; its words and terms those
of its first articles only, so that a long story costs no more than a short one) is
``W_ENTITIES * overlap(entities) + W_TERMS * overlap(terms) + W_RULES * overlap(rules)`` where overlap is
``|A ∩ S| / |A|`` for the entities (the ids unite Hindi and English) and Jaccard for the terms (groups and the
words that matched them: `customs` is not `tourism`) and the rules; an article with no rule is compared on
its entities and terms. ``W_DAY`` more when the article fired a rule the story fired and its event day
(``story_features.event_day``) is one of the story's; ``W_WORDS`` times the summed rarity of the rare words
and language-neutral ids (subjects, evidence ids: docs/stories.md) they share (each at most ``IDF_CAP``).
Closer in time wins a tie.

An article opens the story's alerting (kind ``new``) when it is the story's first article with a fired
rule; a later one is a ``follow-up`` when it adds a rule the story had not fired, raises a rule's novelty
to ``new``, or names an entity the story had not; otherwise it is ``silent`` (recorded, no alert).
Articles that name no watchlist entity are not placed (no story).

Bookkeeping: a story is closed (pruned) once its last article is older than the window before the newest
article *and* it was last touched more than ``keep_placements`` placements ago: a backfill or a late feed
that brings copies of January's articles after March's still finds their story, while memory stays bounded.
Each batch places under a token of its own (``mark``); ``rollback(token)`` undoes that batch's articles
only (a story another batch joined since is rebuilt from its remaining articles), ``settle(token)`` keeps
them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import chain

from monitor.config import StoriesSettings
from monitor.engine.result import NOVELTY_RANK
from monitor.story_ages import StoryAges
from monitor.story_bands import Bands
from monitor.story_features import NUM_PERM, StoryArticle
from monitor.story_log import StoryLog
from monitor.story_model import Kind, Placement, Story, story_id
from monitor.story_similarity import (
    REST_MAX,
    agreement,
    best_story,
    subjects_of,
)
from monitor.story_words import WindowWords

#: stories compared per placement at most, found from the rarest features first
CANDIDATES = 40
#: an article's rarest words that index its story (the rest only count once a story is a candidate)
INDEXED_WORDS = 12
#: an article's rarest words that a story keeps (a story that kept all would soon hold every common word)
STORY_WORDS = 12
#: words a story keeps at most: a story that kept growing would soon match every article
STORY_WORDS_MAX = 48
#: term words a story keeps at most (its first articles'): a story that gained every article's terms would
#: cost more to compare and to write with each article it gains, and it already matches on its first ones
STORY_TERMS_MAX = 48
#: a story keeps the subject and evidence ids of its first articles, all of them (not only the rarest)
ID_ARTICLES = 3
#: a story touched within this many placements is kept whatever its date (articles arrive out of date order)
KEEP_PLACEMENTS = 20_000


def _first(items: frozenset[str], count: int) -> frozenset[str]:
    """At most ``count`` of ``items``, the same ones whatever the hash seed (the first in sorted order)."""
    return items if len(items) <= count else frozenset(sorted(items)[:count])


class StoryBook:
    """The open stories of the window, in memory. ``place`` changes it under a batch's token (``mark``);
    ``rollback(token)`` undoes what that batch placed, ``settle(token)`` keeps it once committed."""

    def __init__(
        self,
        window: timedelta = timedelta(hours=72),
        *,
        threshold: float = 0.8,
        near_duplicate: float = 0.5,
        candidates: int = CANDIDATES,
        keep_placements: int = KEEP_PLACEMENTS,
    ) -> None:
        self.window = window
        self.threshold = threshold
        self.candidates = candidates
        self.stories: dict[str, Story] = {}
        #: article key -> (story id, article time)
        self.members: dict[str, tuple[str, datetime]] = {}
        self._lsh = Bands(near_duplicate, NUM_PERM)
        self._near = near_duplicate
        self._signatures: dict[str, StoryArticle] = {}
        #: feature -> story ids having it, oldest first (closed stories are skipped, then pruned)
        self._postings: dict[str, list[str]] = {}
        #: stories a rollback took out of the book since the last prune pass (their postings remain till then)
        self._dropped: set[str] = set()
        self._log: StoryLog[Story] = StoryLog()
        self._placed = 0
        self.keep_placements = keep_placements
        #: story id -> the placement that last touched it
        self._touched: dict[str, int] = {}
        #: the stories by their latest article (what is past the window, without a pass over all)
        self._ages = StoryAges()
        #: in how many articles of the window each word skeleton occurs
        self._df = WindowWords()
        #: article key -> its placement's kind and what it added, as decided (here or, in a cluster, by the
        #: worker that placed it first): an article placed again gets the same alerts, not a silent repeat
        self._decided: dict[str, tuple[Kind, tuple[str, ...]]] = {}
        self.newest: datetime | None = None

    @classmethod
    def from_settings(cls, settings: StoriesSettings) -> StoryBook | None:
        """The book ``[stories]`` asks for (None: stories off)."""
        if not settings.enabled:
            return None
        return cls(
            timedelta(hours=settings.window_hours),
            threshold=settings.threshold,
            near_duplicate=settings.near_duplicate,
        )

    # -- placing ------------------------------------------------------------------------------

    def place(self, article: StoryArticle, token: int = 0) -> Placement | None:
        """Place one article under ``token`` (``mark``; 0: settled at once). None: it names no entity, it
        belongs to no story."""
        if not article.entities:
            return None
        self._placed += 1
        known = self.members.get(article.key)
        if known is not None and known[0] in self.stories:
            return Placement(self.stories[known[0]], "silent", "near-duplicate")
        story, how = self._near_duplicate(article), "near-duplicate"
        if story is None:
            story, how = self._most_similar(article), "similar"
        if story is None:
            return self._open(article, token)
        return self._join(story, article, how, token)

    def _in_window(self, story: Story, at: datetime) -> bool:
        # differences, not sums: a date near datetime.max must not overflow
        return story.first_at - at <= self.window and at - story.last_at <= self.window

    def _near_duplicate(self, article: StoryArticle) -> Story | None:
        if not article.signature:
            return None
        best: tuple[float, Story] | None = None
        for key in self._lsh.query(article.signature):
            member = self.members.get(key)
            other = self._signatures.get(key)
            story = self.stories.get(member[0]) if member else None
            if story is None or other is None or abs(other.at - article.at) > self.window:
                continue
            score = agreement(article.signature, other.signature)
            if score >= self._near and (best is None or score > best[0]):
                best = (score, story)
        return None if best is None else best[1]

    def _features(self, article: StoryArticle, rare: frozenset[str] | None = None) -> list[str]:
        """What stories are indexed by: entities, terms, rules and the article's rarest words."""
        rare = frozenset(self._df.rarest(article, INDEXED_WORDS)) if rare is None else rare
        return [
            *rare,  # skeletons have no `:`
            *(f"e:{e}" for e in article.entities),
            *(f"t:{t}" for t in article.terms),
            *(f"r:{r}" for r, _ in article.rules),
        ]

    def _most_similar(self, article: StoryArticle) -> Story | None:
        """Candidates from the rarest features first, newest stories first, at most ``candidates``."""
        # looked up by all its words that count (most do not: the sums run over few), a story by its rarest
        weights = self._df.weights(article, len(self.members))
        features = list(weights)
        if self.threshold <= REST_MAX:  # else no story qualifies without a shared word
            # the rarest words with a `:` (evidence ids) index its story too, with its entities, terms, rules
            features.extend(feature for feature in self._features(article) if ":" in feature)
        day = self._df.day(article)
        return best_story(self._candidates(features, article.at), article, weights, self.threshold, day)

    def _candidates(self, features: list[str], at: datetime) -> Iterator[Story]:
        """The open stories in the window having the features, rarest features and newest stories first,
        at most ``candidates`` looked at."""
        seen: set[str] = set()
        lists = list(filter(None, map(self._postings.get, features)))
        lists.sort(key=len)
        stories, window, most = self.stories, self.window, self.candidates
        if most <= 0:
            return
        for sid in chain.from_iterable(map(reversed, lists)):
            if sid in seen:
                continue
            seen.add(sid)
            story = stories.get(sid)
            # ``_in_window`` written out: this runs some forty times a placement
            if story is not None and story.first_at - at <= window and at - story.last_at <= window:
                yield story
            if len(seen) >= most:
                return

    def _open(self, article: StoryArticle, token: int) -> Placement:
        story = Story(story_id(article.key), article.at, article.at, article.at)
        self.stories[story.id] = story
        self._ages.add(story.id, story.last_at)
        return self._join(story, article, "opened", token)

    def _join(self, story: Story, article: StoryArticle, how: str, token: int) -> Placement:
        before = story.copy()
        adds: list[str] = []
        for rule, novelty in article.rules:
            had = story.rules.get(rule)
            if had is None:
                adds.append(f"rule:{rule}")
            elif novelty == "new" and had != "new":
                adds.append(f"novelty:{rule}")
        if story.articles:
            adds.extend(f"entity:{e}" for e in sorted(article.entities - story.entities))
        kind: Kind = "silent"
        if article.rules:
            kind = "follow-up" if story.alerted else "new"
            if kind == "follow-up" and not adds:
                kind = "silent"
        self._absorb(story, article, kind != "silent")
        self._ages.move(story.id, before.last_at, story.last_at)
        self._touched[story.id] = self._placed
        self._log.record(token, story.id, article, before, kind != "silent")
        placement = Placement(story.copy(), kind, how, tuple(adds) if kind == "follow-up" else ())
        self._decided[article.key] = (kind, placement.adds)
        return placement

    def decided(self, key: str) -> Placement | None:
        """How an article in the book was placed: a cluster worker that takes over an article another
        worker placed but did not commit (it died) makes the alerts that worker decided, under their ids."""
        known, decided = self.members.get(key), self._decided.get(key)
        if known is None or decided is None or known[0] not in self.stories:
            return None
        return Placement(self.stories[known[0]].copy(), decided[0], "placed before", decided[1])

    def apply(self, article: StoryArticle, sid: str, kind: Kind, adds: tuple[str, ...] = ()) -> None:
        """A placement decided elsewhere (another worker of a cluster, in the order of its story log): taken
        as it was decided, not decided again, so that every worker's book holds the same stories."""
        if article.key in self.members:
            return
        self._placed += 1
        story = self.stories.get(sid)
        if story is None:
            story = self.stories[sid] = Story(sid, article.at, article.at, article.at)
            self._ages.add(sid, story.last_at)
        before = story.copy()
        self._absorb(story, article, kind != "silent")
        self._ages.move(sid, before.last_at, story.last_at)
        self._touched[sid] = self._placed
        self._log.record(0, sid, article, before, kind != "silent")
        self._decided[article.key] = (kind, adds)

    def _absorb(self, story: Story, article: StoryArticle, alerted: bool) -> None:
        """The story's state with the article in it (whether it alerted is decided before)."""
        for rule, novelty in article.rules:
            had = story.rules.get(rule)
            if had is None or NOVELTY_RANK[novelty] > NOVELTY_RANK[had]:
                story.rules[rule] = novelty
        story.alerted = story.alerted or alerted
        story.articles += 1
        story.first_at = min(story.first_at, article.at)
        story.last_at = max(story.last_at, article.at)
        # a set that gains nothing stays the same object: its row's JSON is remembered (``store_stories``)
        if article.outlet and article.outlet not in story.outlets:
            story.outlets = story.outlets | {article.outlet}
        if not story.entities.issuperset(article.entities):
            story.entities = story.entities | article.entities
        if len(story.terms) < STORY_TERMS_MAX and not story.terms.issuperset(article.terms):
            story.terms = story.terms | _first(article.terms - story.terms, STORY_TERMS_MAX - len(story.terms))
        rare = self._df.rarest(article, max(STORY_WORDS, INDEXED_WORDS))
        if len(story.words) < STORY_WORDS_MAX:  # its first articles say what the event is
            story.words = story.words | frozenset(rare[:STORY_WORDS])
        day = self._df.day(article)
        if day and day not in story.words:  # the days of its events, always
            story.words = story.words | {day}
        if story.articles <= ID_ARTICLES and not story.words.issuperset(ids := subjects_of(article)):
            story.words = story.words | ids
        self._remember(story, article, frozenset(rare[:INDEXED_WORDS]))

    def _remember(self, story: Story, article: StoryArticle, rare: frozenset[str] | None = None) -> None:
        if article.key not in self.members:
            self._df.add(article)
        self.members[article.key] = (story.id, article.at)
        if article.signature and article.key not in self._signatures:
            self._signatures[article.key] = article
            self._lsh.insert(article.key, article.signature)
        for feature in self._features(article, rare):
            postings = self._postings.setdefault(feature, [])
            if not postings or postings[-1] != story.id:
                postings.append(story.id)
        if self.newest is None or article.at > self.newest:
            self.newest = article.at

    def _forget(self, key: str) -> None:
        self.members.pop(key, None)
        self._decided.pop(key, None)
        self._df.remove(key)
        if self._signatures.pop(key, None) is not None and key in self._lsh:
            self._lsh.remove(key)

    # -- transactions -------------------------------------------------------------------------

    def mark(self) -> int:
        """A token for one batch's placements (batches may commit out of order: each settles or rolls
        back its own)."""
        return self._log.mark()

    def current(self, story: Story) -> Story:
        """The story as it stands now (a batch committed after a later one must not write an older row)."""
        return self.stories.get(story.id, story).copy()

    def rollback(self, token: int) -> None:
        """Undo what ``token`` placed (its transaction did not commit); what other batches placed stays."""
        keys, rebuilt = self._log.rollback(token, self._absorb)
        for key in keys:
            self._forget(key)
        for sid, story in rebuilt.items():
            was = self.stories.get(sid)
            if was is not None:
                self._ages.remove(sid, was.last_at)
            if story.articles:
                self.stories[sid] = story
                self._ages.add(sid, story.last_at)
            else:
                self.stories.pop(sid, None)
                self._touched.pop(sid, None)
                self._dropped.add(sid)
        self.newest = max((at for _, at in self.members.values()), default=None)

    def settle(self, token: int | None = None) -> None:
        """What ``token`` placed is committed (None: every batch's), then close the stories past the window."""
        self._log.settle(token)
        self.prune()

    def prune(self) -> None:
        """Drop stories last dated more than the window before the newest article and last touched more
        than ``keep_placements`` ago (amortised: only when the stale share is worth a pass)."""
        if self.newest is None:
            return
        try:
            cutoff = self.newest - self.window  # last_at < cutoff: newest - last_at > window
        except OverflowError:
            return  # no date is a window before the newest
        if self._ages.count_before(cutoff) * 10 < len(self.stories):
            return  # the stale are among these: too few whatever their touches
        recent = self._placed - self.keep_placements
        stale = [
            sid for sid in self._ages.before(cutoff) if self._touched.get(sid, 0) <= recent and not self._log.busy(sid)
        ]
        if not stale or len(stale) * 10 < len(self.stories):
            return
        for sid in stale:
            del self.stories[sid]
            self._touched.pop(sid, None)
        self._ages.keep(self.stories)
        for key in [key for key, (sid, _) in self.members.items() if sid not in self.stories]:
            self._forget(key)
        self._drop_postings({sid for sid in (*stale, *self._dropped) if sid not in self.stories})

    def _drop_postings(self, gone: set[str]) -> None:
        """Take closed stories out of the postings: only the lists that hold one are rebuilt (a pass that
        rebuilt every list cost tens of milliseconds at 100,000 articles, charged to one batch)."""
        self._dropped.clear()  # every story missing from the book is in ``gone``: pruned now or rolled back
        stories, changed = (
            self.stories,
            [feature for feature, sids in self._postings.items() if not gone.isdisjoint(sids)],
        )
        for feature in changed:
            kept = [sid for sid in self._postings[feature] if sid in stories]
            if kept:
                self._postings[feature] = kept
            else:
                del self._postings[feature]

    # -- loading ------------------------------------------------------------------------------

    def restore(self, story: Story, members: Iterable[StoryArticle]) -> None:
        """A story read back from the state database (a restart continues it)."""
        was = self.stories.get(story.id)
        if was is not None:
            self._ages.remove(story.id, was.last_at)
        self.stories[story.id] = story
        self._ages.add(story.id, story.last_at)
        self._touched[story.id] = self._placed
        for article in members:
            self._remember(story, article)
