"""The tagging engine: watchlists in, `TagResult`s out. Pure and synchronous; see DESIGN.md."""

from monitor.engine.engine import Engine, Explanation, WatchlistError, load_engine, problems_of
from monitor.problems import Problem

__all__ = ["Engine", "Explanation", "Problem", "WatchlistError", "load_engine", "problems_of"]
