"""The benchmark suite behind `make bench`; see benchmarks/results.md."""
