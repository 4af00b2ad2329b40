"""The tagging engine: watchlists in, `TagResult`s out. Pure and synchronous; see DESIGN.md."""

from monitor.engine.native import use_native_builds

use_native_builds()  # before any other engine module is imported: the builds that match their sources

from monitor.engine.engine import Engine, Explanation, WatchlistError, load_engine, problems_of  # noqa: E402
from monitor.problems import Problem  # noqa: E402

__all__ = ["Engine", "Explanation", "Problem", "WatchlistError", "load_engine", "problems_of"]
