"""A gateway database at the planned size, for benchmarks: see bench/make_data.py."""
