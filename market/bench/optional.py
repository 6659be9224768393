"""Bench data for areas still being built: booths with attendance, takings.

>>> AFTER THE BOOTHS / TAKINGS BRANCHES LAND: check the model names and the
>>> column names below against the real models, then run `make bench`.

Each function returns one line for the seed's output. Without the model it
says "not available yet" and writes nothing; with a model whose required
columns it does not know, it says which and writes nothing. It never invents
a number for something that is not there."""

import math

from sqlalchemy import insert, select

import market.models
from market.bench.generate import Plan
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.vendors.models import Application, ApplicationStatus

BOOTH_MODELS = ("Booth",)
TAKINGS_MODELS = ("Takings", "Taking", "TakingsEntry")
HELD = (MarketStatus.HELD, MarketStatus.CLOSED)
NO_SHOW_SHARE = 0.05
TYPICAL_TAKINGS = 1_000_000  # won per vendor on an ordinary day


def find_model(names: tuple[str, ...]):
    for name in names:
        model = getattr(market.models, name, None)
        if model is not None:
            return model
    return None


def unknown_required(table, known: set[str]) -> list[str]:
    """Columns that need a value this module does not know how to give."""
    return sorted(
        column.name
        for column in table.columns
        if not column.nullable
        and column.default is None
        and column.server_default is None
        and not (column.primary_key and column.autoincrement in (True, "auto"))
        and column.name not in known
    )


def _assigned() -> list[tuple[int, int, MarketStatus, int]]:
    """(market id, vendor id, market status, takings ceiling) of every assigned
    application, in booth order (application id) within each market."""
    return list(
        db.session.execute(
            select(
                Application.market_id,
                Application.vendor_id,
                Market.status,
                Market.takings_ceiling,
            )
            .join(Market, Market.id == Application.market_id)
            .where(Application.status == ApplicationStatus.ASSIGNED)
            .order_by(Application.market_id, Application.id)
        )
    )


def _write(model, rows: list[dict]) -> None:
    """In batches, rows with the same columns together (one executemany each)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for group in groups.values():
        for start in range(0, len(group), 10_000):
            db.session.execute(insert(model.__table__), group[start : start + 10_000])
            db.session.commit()


# -- booths and attendance (issue 5) ------------------------------------------


def _attendance_value(column, present: bool):
    """`present`/`attended` booleans, or an `attendance` enum/string."""
    if column.name in ("present", "attended"):
        return present
    if column.name == "no_show":
        return not present
    enum_class = getattr(column.type, "enum_class", None)
    wanted = ("present", "attended") if present else ("no_show", "absent", "noshow")
    if enum_class is not None:
        return next((m for m in enum_class if m.value in wanted), None)
    return wanted[0]


def seed_booths(plan: Plan) -> str:
    Booth = find_model(BOOTH_MODELS)
    if Booth is None:
        return "booths and attendance: not available yet (no Booth model) - skipped"
    table = Booth.__table__
    columns = set(table.columns.keys())
    attendance = next(
        (
            table.c[name]
            for name in ("attendance", "present", "attended", "no_show")
            if name in columns
        ),
        None,
    )
    known = {"market_id", "vendor_id", "number"} | (
        {attendance.name} if attendance is not None else set()
    )
    missing = unknown_required(table, known) + sorted(
        {"market_id", "vendor_id", "number"} - columns
    )
    if missing:
        return f"booths: the Booth model needs {missing}; adapt market/bench/optional.py - skipped"
    rng = plan.rng("booths")
    rows, number, last_market = [], 0, None
    for market_id, vendor_id, status, _ceiling in _assigned():
        number = number + 1 if market_id == last_market else 1
        last_market = market_id
        row = {"market_id": market_id, "vendor_id": vendor_id, "number": number}
        if attendance is not None and status in HELD:
            row[attendance.name] = _attendance_value(attendance, rng.random() >= NO_SHOW_SHARE)
        rows.append(row)
    _write(Booth, rows)
    note = "" if attendance is not None else " (no attendance column found)"
    return f"booths: {len(rows):,}{note}"


# -- takings (issue 6) ---------------------------------------------------------


def seed_takings(plan: Plan) -> str:
    Takings = find_model(TAKINGS_MODELS)
    if Takings is None:
        return "takings: not available yet (no Takings model) - skipped"
    table = Takings.__table__
    columns = set(table.columns.keys())
    missing = unknown_required(table, {"market_id", "vendor_id", "amount"})
    missing += sorted({"market_id", "vendor_id", "amount"} - columns)
    if missing:
        return (
            f"takings: the Takings model needs {missing}; adapt market/bench/optional.py - skipped"
        )
    rng = plan.rng("takings")
    rows, totals = [], {}
    for market_id, vendor_id, status, ceiling in _assigned():
        if status not in HELD or rng.random() < NO_SHOW_SHARE:
            continue
        amount = round(rng.lognormvariate(math.log(TYPICAL_TAKINGS), 0.6), -3)
        amount = int(min(amount, ceiling - totals.get(market_id, 0)))
        if amount <= 0:
            continue
        totals[market_id] = totals.get(market_id, 0) + amount
        row = {"market_id": market_id, "vendor_id": vendor_id, "amount": amount}
        if "sales_count" in columns:
            row["sales_count"] = max(1, amount // rng.randrange(8_000, 30_000))
        rows.append(row)
    _write(Takings, rows)
    return f"takings: {len(rows):,} entries over {len(totals):,} markets"
