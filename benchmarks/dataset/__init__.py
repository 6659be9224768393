"""A large, generated, deterministic data set for the benchmark suite
(`flask --app benchmarks.app seed-bench`; `make bench` runs benchmarks/
against it). It lives here, not in the market package: it is for a checkout,
never shipped in the wheel or offered by the production CLI."""
