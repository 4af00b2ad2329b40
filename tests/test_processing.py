"""The processor with a real store and real files: one article's failure never costs its batch."""

from __future__ import annotations

from pathlib import Path

from monitor.config import Settings
from monitor.engine import Engine, load_engine
from monitor.engine.result import TagResult
from monitor.processing import Processor
from monitor.store import Store
from tests.support import WATCHLISTS, stream_articles, write_articles

GOOD = "Pact signed\n\nRussia and North Korea signed a new agreement in Moscow today.\n"


class EngineWithABug(Engine):
    """The shipped engine, except that it crashes on one word: stands in for a bug we do not know yet."""

    def tag(self, text: str) -> TagResult:
        if "CRASH" in text:
            raise RuntimeError("simulated engine bug")
        return super().tag(text)


def processor(tmp_path: Path, engine: Engine, workers: int = 0) -> tuple[Processor, Store, Path]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = Settings(
        watch={"paths": [str(inbox)]}, state={"dir": str(tmp_path / "state")}, processing={"workers": workers}
    )
    store = Store.in_dir(tmp_path / "state")
    return Processor(settings, store, lambda: engine), store, inbox


def test_an_engine_failure_costs_one_article_and_is_recorded(tmp_path: Path) -> None:
    buggy = EngineWithABug(load_engine([WATCHLISTS])._compiled)
    proc, store, inbox = processor(tmp_path, buggy)
    (inbox / "before.txt").write_text(GOOD)
    (inbox / "bad.txt").write_text(GOOD + "CRASH\n")
    (inbox / "after.txt").write_text(GOOD.replace("today", "on Friday"))
    outcomes = proc.process(sorted(inbox.iterdir()))
    results = {Path(o.path).name: o.result for o in outcomes}
    assert results == {"after.txt": "alerted", "bad.txt": "error", "before.txt": "alerted"}
    assert store.errors()[0][:2] == (str(inbox / "bad.txt"), "engine-failure")
    assert store.outbox_depth() == 3  # two alerts and one error record


def test_unchanged_files_are_skipped_without_reading(tmp_path: Path) -> None:
    proc, store, inbox = processor(tmp_path, load_engine([WATCHLISTS]))
    (inbox / "a.txt").write_text(GOOD)
    assert [o.result for o in proc.process([inbox / "a.txt"])] == ["alerted"]
    assert proc.process([inbox / "a.txt"]) == []
    assert store.outbox_depth() == 1


def test_worker_processes_tag_exactly_as_the_daemon_thread_does(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    articles = stream_articles(40, seed=11)
    in_thread_dir, pooled_dir = tmp_path / "thread", tmp_path / "pool"
    in_thread_dir.mkdir()
    pooled_dir.mkdir()
    in_thread, _, inbox_a = processor(in_thread_dir, engine)
    pooled, _, inbox_b = processor(pooled_dir, engine, workers=2)
    try:
        write_articles(inbox_a, articles)
        write_articles(inbox_b, articles)
        expected = {(Path(o.path).name, o.result, o.rules) for o in in_thread.process(sorted(inbox_a.iterdir()))}
        got = {(Path(o.path).name, o.result, o.rules) for o in pooled.process(sorted(inbox_b.iterdir()))}
        assert pooled.tagger._pool is not None, "the batch went through worker processes"
    finally:
        pooled.close()
    assert got == expected
    assert any(result == "alerted" for _, result, _ in got)


def test_a_reloaded_engine_replaces_the_workers(tmp_path: Path) -> None:
    first, second = load_engine([WATCHLISTS]), load_engine([WATCHLISTS])
    current = [first]
    proc, _, inbox = processor(tmp_path, first, workers=2)
    proc.engine = lambda: current[0]
    try:
        write_articles(inbox, stream_articles(4, seed=12))
        proc.process(sorted(inbox.iterdir())[:2])
        pool = proc.tagger._pool
        current[0] = second
        proc.process(sorted(inbox.iterdir())[2:])
        assert proc.tagger._pool is not None
        assert proc.tagger._pool is not pool
    finally:
        proc.close()


def test_overlapping_batches_tag_a_content_once_and_defer_a_path_in_flight(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    proc, store, inbox = processor(tmp_path, engine)
    (inbox / "a.txt").write_text(GOOD)
    (inbox / "copy.txt").write_text(GOOD)
    first = proc.prepare([inbox / "a.txt"])
    second = proc.prepare([inbox / "copy.txt", inbox / "a.txt"])  # read while the first is being tagged
    assert second.deferred == [inbox / "a.txt"]
    assert second.jobs == [], "the same content in flight is not tagged twice"
    outcomes = proc.finish(first, proc.tagger.run(engine, first.jobs))
    outcomes += proc.finish(second, proc.tagger.run(engine, second.jobs))
    assert [(Path(o.path).name, o.result) for o in outcomes] == [("a.txt", "alerted"), ("copy.txt", "duplicate")]
    assert store.outbox_depth() == 1
    assert proc.prepare(second.deferred).reads == [], "handed on again after the commit: unchanged, skipped"
