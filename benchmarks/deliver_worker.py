"""One mail worker of the delivery benchmark: market.outbox.delivery.deliver_due passes
(what `flask --app market outbox deliver` runs) until a pass finds nothing
due. Once connected it prints "ready" and reads the common start time (epoch
seconds) from stdin, so that process start-up is not measured, however long
it takes on a busy machine; at the end it prints one JSON line with what it
sent and when it finished.

    DATABASE_URL=... MAIL_SERVER=127.0.0.1 MAIL_PORT=... \\
        python -m benchmarks.deliver_worker"""

import json
import sys
import time

from sqlalchemy.exc import SQLAlchemyError

from market import create_app
from market.extensions import db
from market.outbox.delivery import deliver_due

MAX_PASSES = 10_000  # a bound, far above what 10,000 messages need
ANY_HOUR = {"ADVERTISING_CATEGORIES": ()}  # the benchmark runs at any hour; see mailing.py


def main() -> None:
    app = create_app(ANY_HOUR)
    sent = failed = errors = 0
    with app.app_context():
        db.session.execute(db.select(1))  # connect before the start
        db.session.remove()
        print("ready", flush=True)
        start_at = float(sys.stdin.readline())
        late = time.time() - start_at
        time.sleep(max(0.0, start_at - time.time()))
        for _ in range(MAX_PASSES):
            try:
                report = deliver_due()
            except SQLAlchemyError:  # as the CLI's loop: a busy database is retried
                db.session.rollback()
                errors += 1
                continue
            finally:
                db.session.remove()
            sent, failed = sent + report.sent, failed + report.failed + report.retried
            if report.total == 0:
                break
    finished = time.time()
    print(
        json.dumps(
            {"sent": sent, "failed": failed, "errors": errors, "finished": finished, "late": late}
        )
    )


if __name__ == "__main__":
    main()
