"""The invitation row of the benchmark (issue 20): the app's invite()
against a bare standard-library loop that builds the same mail and inserts
it with executemany (benchmarks.mailing.bare_queue), and how report.py
judges the two."""

from datetime import datetime, time, timedelta

from sqlalchemy import inspect, select

from benchmarks import mailing, report
from market.extensions import db
from market.invitations import sending
from market.outbox.mime import parse
from market.outbox.models import OutboxMessage
from market.timeutil import SEOUL
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitation_batch import _customers
from tests.test_invitations import make_vendor


def _queue(count: int, seconds: float, bare_seconds: float) -> dict:
    return {
        "queue": {
            "invitations": count,
            "seconds": seconds,
            "per_s": count / seconds,
            "bare_count": count,
            "bare_seconds": bare_seconds,
        },
        "light": False,
    }


def test_the_row_gives_the_ratio_to_the_bare_loop_and_both_targets():
    [row] = report.mail_rows("PostgreSQL", _queue(10_000, 8.0, 5.0))
    assert row == (
        "build and queue 10,000 invitations",
        "PostgreSQL",
        "8.0 s, 1,250/s; bare loop 5.0 s for 10,000 (2,000/s)",
        "1.6×",
        "≤ 10 s and ≤ 2× bare",
        "yes",
    )
    # Within 10 s but 2.5x the bare loop; within 2x but over 10 s.
    assert report.mail_rows("PostgreSQL", _queue(10_000, 10.0, 4.0))[0][-1] == "**no**"
    assert report.mail_rows("PostgreSQL", _queue(10_000, 12.0, 8.0))[0][-1] == "**no**"
    # A smaller run is held to its share of the 10 s.
    [small] = report.mail_rows("SQLite", _queue(1_000, 1.5, 1.0))
    assert small[4] == "≤ 1 s and ≤ 2× bare" and small[-1] == "**no**"


def test_the_bare_loop_builds_the_mail_the_app_queues(app):
    """Same parts in the same structure, the same words around the
    customer's own, for the same customers; its table is gone afterwards."""
    app.config["PUBLIC_BASE_URL"] = "https://market.example.kr"
    venue = make_venue("경기도청", 10)
    market = make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=2))
    make_vendor("잔다리마을공동체", "food", market)
    ids = _customers(3)
    now = datetime.combine(market.market_date - timedelta(days=7), time(11), SEOUL)
    sending.invite(market, ids, None, now)
    db.session.commit()
    app_mail = parse(
        db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first().mime
    )

    count, seconds, sample = mailing.bare_queue(market, ids, db.engine)
    assert count == 3 and seconds > 0
    bare_mail = parse(sample)
    layout = [(p.get_content_type(), p.get_filename()) for p in app_mail.walk()]
    assert layout == [(p.get_content_type(), p.get_filename()) for p in bare_mail.walk()]
    for name in ("From", "To", "Subject", "List-Unsubscribe-Post"):
        assert str(app_mail[name]) == str(bare_mail[name])
    text = bare_mail.get_body(("plain",)).get_content()
    assert "잔다리마을공동체" in text and "구매자0님" in text
    calendar = next(p for p in bare_mail.walk() if p.get_content_type() == "text/calendar")
    assert b"ATTENDEE;CN=" in calendar.get_payload(decode=True)
    with db.engine.connect() as connection:
        assert mailing.BARE_TABLE not in inspect(connection).get_table_names()
