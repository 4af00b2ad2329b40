"""The analyst's console: an aiohttp app served from the daemon's own event loop.

It shares nothing with the hot path but the database: every read and review goes through
``monitor.history.History`` on the console's own threads and connections (``archive.py``).
"""
