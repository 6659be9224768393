"""The benchmark suite behind `make bench` (issue 9); see benchmarks/results.md."""
