"""The batch steps and the worker pool with a real store and real files: one article's failure never
costs its batch, unchanged files are not read again, workers tag exactly as the daemon does."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from harness.articles import stream_articles, write_articles
from harness.processes import WATCHLISTS
from monitor.engine import Engine, load_engine
from monitor.engine.result import TagResult
from monitor.processing import ALONE_BYTES
from monitor.store import Store
from tests.support import AGREEMENT_ARTICLE, BatchRunner

GOOD = AGREEMENT_ARTICLE


class EngineWithABug(Engine):
    """The shipped engine, except that it crashes on one word: stands in for a bug we do not know yet."""

    def tag_scanned(self, text: str, published: dt.date | None = None) -> tuple[TagResult, str]:
        if "CRASH" in text:  # `tag` and the daemon's tagging both come here
            raise RuntimeError("simulated engine bug")
        return super().tag_scanned(text, published)


def keys(*paths: Path) -> list[str]:
    return [str(path) for path in paths]


def test_an_engine_failure_costs_one_article_and_is_recorded(tmp_path: Path) -> None:
    buggy = EngineWithABug(load_engine([WATCHLISTS])._compiled)
    with BatchRunner(tmp_path, buggy) as run:
        (run.inbox / "before.txt").write_text(AGREEMENT_ARTICLE)
        (run.inbox / "bad.txt").write_text(AGREEMENT_ARTICLE + "CRASH\n")
        (run.inbox / "after.txt").write_text(AGREEMENT_ARTICLE.replace("today", "on Friday"))
        outcomes = run.process(keys(*sorted(run.inbox.iterdir())))
        results = {Path(o.key).name: o.result for o in outcomes}
        assert results == {"after.txt": "alerted", "bad.txt": "error", "before.txt": "alerted"}
        assert run.store.errors()[0][:2] == (str(run.inbox / "bad.txt"), "engine-failure")
        assert run.store.outbox_depth() == 3  # two alerts and one error record


def test_unchanged_files_are_skipped_without_reading(tmp_path: Path) -> None:
    with BatchRunner(tmp_path, load_engine([WATCHLISTS])) as run:
        (run.inbox / "a.txt").write_text(AGREEMENT_ARTICLE)
        assert [o.result for o in run.process(keys(run.inbox / "a.txt"))] == ["alerted"]
        assert run.process(keys(run.inbox / "a.txt")) == []
        assert run.store.outbox_depth() == 1


def test_worker_processes_tag_exactly_as_the_daemon_thread_does(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    articles = stream_articles(40, seed=11)
    with BatchRunner(tmp_path / "thread", engine) as in_thread, BatchRunner(tmp_path / "pool", engine, 2) as pooled:
        write_articles(in_thread.inbox, articles)
        write_articles(pooled.inbox, articles)
        expected = {(Path(o.key).name, o.result, o.rules) for o in in_thread.process(in_thread.all_keys())}
        got = {(Path(o.key).name, o.result, o.rules) for o in pooled.process(pooled.all_keys())}
        assert pooled.pool.uses_processes, "the batch went through worker processes"
    assert got == expected
    assert any(result == "alerted" for _, result, _ in got)


def test_a_reloaded_engine_replaces_the_workers(tmp_path: Path) -> None:
    first, second = load_engine([WATCHLISTS]), load_engine([WATCHLISTS])
    with BatchRunner(tmp_path, first, workers=2) as run:
        write_articles(run.inbox, stream_articles(4, seed=12))
        run.process(run.all_keys()[:2])
        pool = run.pool._pool
        run.engine = second
        run.process(run.all_keys()[2:])
        assert run.pool._pool is not None
        assert run.pool._pool is not pool


def test_a_dead_worker_costs_nothing_the_batch_is_tagged_in_the_daemon(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    with BatchRunner(tmp_path, engine, workers=2) as run:
        write_articles(run.inbox, stream_articles(6, seed=13))
        asyncio.run(run.pool.start(engine))
        assert run.pool._pool is not None
        for process in list(run.pool._pool._processes.values()):
            process.kill()
            process.join()
        outcomes = run.process(run.all_keys())
        assert len(outcomes) == 6
        assert all(o.result in ("alerted", "clean") for o in outcomes)


def test_overlapping_batches_tag_a_content_once_and_defer_a_path_in_flight(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    with BatchRunner(tmp_path, engine) as run:
        a, copy = run.inbox / "a.txt", run.inbox / "copy.txt"
        a.write_text(AGREEMENT_ARTICLE)
        copy.write_text(AGREEMENT_ARTICLE)
        first = run.processor.prepare(keys(a), engine)
        second = run.processor.prepare(keys(copy, a), engine)  # read while the first is being tagged
        assert first.deferred == [str(copy), str(a)], "both wait for the batch that holds them in flight"
        assert second.reads == [], "the same content in flight is not tagged twice"
        outcomes = run.processor.finish(first, run.tag(first.jobs))
        outcomes += run.processor.finish(second, run.tag(second.jobs))
        outcomes += run.process(first.deferred)  # handed on again once the first is committed
        assert [(Path(o.key).name, o.result) for o in outcomes] == [("a.txt", "alerted"), ("copy.txt", "duplicate")]
        assert run.store.outbox_depth() == 1


def test_a_copy_of_a_large_article_set_aside_waits_for_it_and_never_takes_its_alerts(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    large = GOOD + "Shares closed higher in a quiet session today.\n" * (ALONE_BYTES // 40)
    with BatchRunner(tmp_path, engine) as run:
        big, copy, small = run.inbox / "big.txt", run.inbox / "copy.txt", run.inbox / "small.txt"
        big.write_text(large)
        first = run.processor.prepare(keys(big), engine)
        [alone] = first.aside
        copy.write_text(large)
        small.write_text(GOOD.replace("today", "at noon"))
        second = run.processor.prepare(keys(copy, small), engine)  # while the large one is still tagged
        outcomes = run.processor.finish(second, run.tag(second.jobs))
        assert [(Path(o.key).name, o.result) for o in outcomes] == [("small.txt", "alerted")]
        outcomes = run.processor.finish(alone, run.tag(alone.jobs))
        assert [(Path(o.key).name, o.result) for o in outcomes] == [("big.txt", "alerted")]
        assert [(Path(o.key).name, o.result) for o in run.process(alone.deferred)] == [("copy.txt", "duplicate")]
        assert run.store.outbox_depth() == 2


def test_a_dry_run_commits_nothing_yet_knows_a_second_copy_is_a_duplicate(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    with BatchRunner(tmp_path, engine, commit=False) as run:
        (run.inbox / "a.txt").write_text(AGREEMENT_ARTICLE)
        (run.inbox / "b.txt").write_text(AGREEMENT_ARTICLE)
        assert [o.result for o in run.process(keys(run.inbox / "a.txt"))] == ["alerted"]
        assert [o.result for o in run.process(keys(run.inbox / "b.txt"))] == ["duplicate"]
        assert run.store.outbox_depth() == 0
        assert run.store.counts() == {"errors": 0, "pending": 0}


def test_a_batch_whose_store_fails_while_it_is_read_leaves_nothing_in_flight(tmp_path: Path) -> None:
    engine = load_engine([WATCHLISTS])
    with BatchRunner(tmp_path, engine) as run:
        (run.inbox / "a.txt").write_text(GOOD)
        (run.inbox / "b.txt").write_text(GOOD.replace("today", "on Friday"))
        store = run.processor.store
        version = run.source.version

        def store_fails_at_b(key: str) -> str | None:
            if key.endswith("b.txt"):
                store.close()  # the store fails under the second key: a real sqlite3 error follows
            return version(key)

        run.source.version = store_fails_at_b  # type: ignore[method-assign]
        with pytest.raises(sqlite3.Error):
            run.processor.prepare(run.all_keys(), engine)
        run.source.version = version  # type: ignore[method-assign]
        run.processor.store = run.store = Store.in_dir(tmp_path / "state")
        again = run.processor.prepare(run.all_keys(), engine)
        assert [Path(read.key).name for read in again.reads] == ["a.txt", "b.txt"], "a.txt is not waiting on a ghost"
