"""A large, generated, deterministic data set for the benchmark suite
(`flask --app market seed-bench`; `make bench` runs benchmarks/ against it)."""
