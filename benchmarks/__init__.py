"""Performance harness: `python -m benchmarks.run` runs every benchmark and prints a table."""
