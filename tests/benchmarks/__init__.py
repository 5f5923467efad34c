"""Benchmarks, run by hand (not collected by pytest): see each script's docstring."""
