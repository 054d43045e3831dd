"""Benchmarks: each figure is measured against a baseline in the same process and run."""
