"""Rows written with plain SQL as the schema was before a migration, for the
tests that upgrade a database holding data (0017's passes, 0018's delivery
times). Plain SQL because the models describe the schema after it."""

from datetime import date

from sqlalchemy import text


def insert_markets(connection, days: dict[int, date], stamp: str) -> None:
    """One venue (id 1) and a planned market per id on its day."""
    connection.execute(
        text(
            "INSERT INTO venues (id, name, address, booth_spots, created_at, updated_at)"
            " VALUES (1, '경기도청', '수원시', 10, :at, :at)"
        ),
        {"at": stamp},
    )
    connection.execute(
        text(
            "INSERT INTO markets (id, market_date, start_time, end_time, venue_id,"
            " booth_count, application_deadline, takings_ceiling, status, uid, sequence,"
            " created_at, updated_at) VALUES (:id, :day, '10:00:00', '15:00:00', 1, 10,"
            " :at, 30000000, 'planned', :uid, 0, :at, :at)"
        ),
        [{"id": n, "day": day, "at": stamp, "uid": f"market-{n}@t"} for n, day in days.items()],
    )


def insert_customers(connection, count: int, stamp: str) -> None:
    """Customers 1..count without consent (c1@x.kr, …)."""
    connection.execute(
        text(
            "INSERT INTO customers (id, email, email_hash, name, consent, details_as_of,"
            " created_at) VALUES (:id, :email, :hash, '구매자', :no, :at, :at)"
        ),
        [
            {"id": n, "email": f"c{n}@x.kr", "hash": f"h{n}", "no": False, "at": stamp}
            for n in range(1, count + 1)
        ],
    )
