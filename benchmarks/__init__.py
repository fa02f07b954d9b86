"""The benchmark suite: see run.py and ../../shared/BENCHMARKS.md."""
