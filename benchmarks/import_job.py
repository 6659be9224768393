"""The import as `flask --app market customers import FILE` runs it (the
check pass, then the write pass, through market.customers.services), with
each pass timed; prints one JSON line. Run in its own process (see peak.py).

    DATABASE_URL=... python -m benchmarks.import_job FILE"""

import json
import sys
import time

from market import create_app
from market.customers import services
from market.customers.models import ImportStatus
from market.extensions import db


def main(path: str) -> None:
    app = create_app()
    with app.app_context():
        job = services.register_file(path)
        db.session.commit()
        started = time.perf_counter()
        job = services.run_check(job.id)
        checked = time.perf_counter()
        if job.status is not ImportStatus.CHECKED or job.rows_bad:
            raise SystemExit(f"check refused the file: {job.status} {job.error} {job.rows_bad}")
        job = services.run_import(job.id)
        written = time.perf_counter()
        if job.status is not ImportStatus.DONE:
            raise SystemExit(f"import failed: {job.status} {job.error}")
        print(
            json.dumps(
                {
                    "rows": job.rows_total,
                    "orders_new": job.orders_new,
                    "customers_new": job.customers_new,
                    "check_seconds": checked - started,
                    "write_seconds": written - checked,
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
