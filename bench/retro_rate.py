"""Retro-run rate: archived articles per minute that ``monitor.retro.retro_run`` tags on one core.

    .venv/bin/python -m bench.retro_rate [--articles 20000] [--aliases 0]

Fills a fresh state database's archive with ``--articles`` articles of the bench corpus (2-10 KB, Hindi,
English and mixed; built from the sample articles in ../shared/seeds, else the harness's short articles),
written as the daemon archives them, then times one retro run over all of them with the shipped
watchlists (and, with ``--aliases N``, then with a generated watchlist of N aliases and N/10 rules), pinned to
one core, and once more grouped into stories as ``monitor retro`` does with stories on: from the story
features the archive keeps (layout 5, as a daemon with stories on archives them), and from the texts (the
articles of an archive of layout 4). Prints articles/minute (wall clock and per CPU minute) and MB/s of
article text. Target: at least 20,000 articles a minute.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from harness.articles import stream_articles
from monitor.engine import load_engine
from monitor.history_schema import ArchiveRecord, archive_article, current_holds
from monitor.history_text import language_of
from monitor.retro import retro_run
from monitor.retro_stories import in_stories
from monitor.store import DB_NAME, Store
from monitor.stories import StoryBook
from monitor.story_features import text_features

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "config" / "watchlists"
SEEDS = REPO.parent / "shared" / "seeds"


def corpus(count: int) -> list[str]:
    if SEEDS.is_dir():
        from bench.corpus import CorpusGenerator

        return [article.text for article in CorpusGenerator(seed=7, seeds=SEEDS).articles(count)]
    return [text for _name, text in stream_articles(count, seed=7)]


def fill(state: Path, texts: list[str]) -> None:
    """The archive as the daemon writes it with stories on (search forms left out: a retro run does not read
    them), the story features of each text with it."""
    store = Store(state / DB_NAME)
    day = datetime.now(UTC).date().isoformat()
    with store._transaction():
        holds = current_holds(store._db, time.time())
        for index, text in enumerate(texts):
            record = ArchiveRecord(
                title=text.split("\n", 1)[0],
                source="bench",
                url=None,
                lang=language_of(text),
                published_at=None,
                day=day,
                text=text,
                search_title="",
                search_text="",
                story_text=text_features(text),
            )
            archive_article(store._db, f"/bench/{index}.txt", f"sha-{index}", record, holds, time.time())
    store.close()


def measure(
    state: Path, watchlists: list[Path], label: str, size_mb: float, *, stories: bool = False, texts: bool = False
) -> None:
    """``texts``: the story features read from the texts, not from the archive."""
    engine = load_engine(watchlists)
    today = datetime.now(UTC).date()
    started = time.process_time()
    wall = time.perf_counter()
    articles = 0
    found = retro_run(state / DB_NAME, engine, today, today)
    if stories:  # as `monitor retro` with stories on: every article placed in a fresh book
        results = [replace(one, story_text=None) for one in found] if texts else list(found)
        articles, fired = len(results), len(in_stories(results, StoryBook()))
    else:
        fired = 0
        for one in found:
            articles += 1
            fired += bool(one.result.rules)
    cpu, elapsed = time.process_time() - started, time.perf_counter() - wall
    print(
        f"{label}: {articles} articles in {elapsed:.1f} s ({cpu:.1f} s CPU): "
        f"{articles / elapsed * 60:,.0f} articles/min ({articles / cpu * 60:,.0f} per CPU minute), "
        f"{size_mb / elapsed:.2f} MB/s; {fired} fired"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--aliases", type=int, default=0, help="also a generated watchlist of this many aliases")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    texts = corpus(args.articles)
    size_mb = sum(len(text.encode()) for text in texts) / 1e6
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        fill(state, texts)
        print(f"archive: {len(texts)} articles, {size_mb:.1f} MB of text ({'corpus' if SEEDS.is_dir() else 'short'})")
        measure(state, [SHIPPED], "shipped watchlists", size_mb)
        measure(state, [SHIPPED], "shipped watchlists, grouped into stories", size_mb, stories=True)
        label = "shipped watchlists, grouped into stories, features read from the texts"
        measure(state, [SHIPPED], label, size_mb, stories=True, texts=True)
        if args.aliases:
            from bench.watchlists import write_watchlist

            generated = write_watchlist(state / "wl", args.aliases, max(1, args.aliases // 10))
            measure(state, generated, f"generated watchlist of {args.aliases} aliases", size_mb)


if __name__ == "__main__":
    main()
