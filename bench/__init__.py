"""Benchmarks: `python -m bench` runs them all; results go into BENCHMARKS.md by hand, with the command."""
