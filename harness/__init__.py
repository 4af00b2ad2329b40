"""Real servers and the daemon as a subprocess, for tests and benchmarks (not part of the product)."""
