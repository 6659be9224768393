"""The market app as the benchmarks use it from a checkout: the production
app plus `seed-bench`, which fills a database with the bench data set.

    flask --app benchmarks.app seed-bench --seed 1 --scale 0.1

The command lives here rather than in `market/cli.py` so that the installed
package neither ships the data generator nor offers it on a production server."""

from flask import Flask

from benchmarks.dataset.seed import seed_bench_command
from market import create_app as create_market_app


def register_bench_commands(app: Flask) -> None:
    app.cli.add_command(seed_bench_command)


def create_app(test_config: dict | None = None) -> Flask:
    app = create_market_app(test_config)
    register_bench_commands(app)
    return app
