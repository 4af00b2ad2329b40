"""The tagging engine: watchlists in, `TagResult`s out. Pure and synchronous; see DESIGN.md."""

from monitor.engine.native import guard_stale_builds

guard_stale_builds()  # before any other engine module is imported: an edited source is never shadowed

from monitor.engine.engine import Engine, Explanation, WatchlistError, load_engine, problems_of  # noqa: E402
from monitor.problems import Problem  # noqa: E402

__all__ = ["Engine", "Explanation", "Problem", "WatchlistError", "load_engine", "problems_of"]
