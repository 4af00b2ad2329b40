"""newsmon: tag news articles with watchlists and publish alerts over MQTT."""

__version__ = "0.1.0"
