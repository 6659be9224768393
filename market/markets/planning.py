"""Deleting a market nothing hangs on, and copying a market to another date.

A market that anyone has acted on (an application, an invitation, takings, a
booth, a ranking of invitees…) is part of the record: it can only be
cancelled (services.change_status), so the vendors and customers involved are
told. One that nothing points at yet, a typo or a date planned twice, can go.
Which rows point at a market is read from the schema itself (every foreign
key to markets.id), so a table added later is counted without this area
knowing the others."""

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from market.audit.services import describe_actions, record
from market.core.i18n import label_text
from market.extensions import db
from market.markets import services
from market.markets.models import Market
from market.timeutil import today_seoul

# What staff call the rows of each table that points at a market; a table
# not named here is counted as "other records".
ATTACHMENT_LABELS = {
    "applications": _l("applications"),
    "invitations": _l("invitations"),
    "takings": _l("takings entries"),
    "booths": _l("booths"),
    "ranking_snapshots": _l("saved invitee rankings"),
}
OTHER_RECORDS = _l("other records")


def _referring_columns() -> list:
    """Every column with a foreign key to markets.id, over all known tables."""
    markets_id = Market.__table__.c.id
    return [
        fk.parent
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column is markets_id
    ]


def attachments(market_id: int) -> dict[str, int]:
    """How many rows of each table point at the market, in one query; only
    tables that have some."""
    columns = _referring_columns()
    if not columns:
        return {}
    counts = db.session.execute(
        select(
            *(
                select(func.count())
                .select_from(column.table)
                .where(column == market_id)
                .scalar_subquery()
                for column in columns
            )
        )
    ).one()
    found: dict[str, int] = {}
    for column, count in zip(columns, counts, strict=True):
        if count:
            found[column.table.name] = found.get(column.table.name, 0) + int(count)
    return found


def attachment_text(found: dict[str, int]) -> str:
    """ "신청 3건, 초대 12건": what keeps a market from being deleted."""
    parts = []
    for table, count in found.items():
        label = ATTACHMENT_LABELS.get(table, OTHER_RECORDS)
        parts.append(_("%(what)s: %(count)d", what=label_text(label), count=count))
    return ", ".join(parts)


def cannot_delete_message(found: dict[str, int]) -> str:
    return _(
        "This market cannot be deleted because records are attached to it (%(records)s). "
        "Cancel it instead: the people involved are told.",
        records=attachment_text(found),
    )


def delete_market(market_id: int, actor=None) -> None:
    """Deletes the market if nothing points at it. The check and the delete
    happen with the market row locked (services.lock_market): an application
    saved at the same moment either commits first and is counted here, or
    waits for the delete and is refused (the market is gone), never deleted
    with the market by the CASCADE of its foreign key."""
    market = services.lock_market(market_id)
    if market is None:
        raise services.MarketRuleError({"market": _("This market no longer exists.")})
    found = attachments(market.id)
    if found:
        raise services.MarketRuleError({"market": cannot_delete_message(found)})
    record(actor, "market.delete", market, before=services.market_values(market))
    db.session.delete(market)
    db.session.flush()


def copy_market(
    market: Market, new_date: date, actor=None, date_exception_reason: str | None = None
) -> Market:
    """A new planned market like `market` (venue, times, booths, ceiling,
    note) on `new_date`, with the deadline computed for that date; the usual
    market rules apply (a free date at the venue, a reason for a day other
    than Thursday). Nothing attached to the original is copied."""
    if new_date < today_seoul():
        past = _("Choose a date from today on: a market cannot be copied into the past.")
        raise services.MarketRuleError({"market_date": past})
    details = services.MarketDetails(
        market_date=new_date,
        start_time=market.start_time,
        end_time=market.end_time,
        venue_id=market.venue_id,
        booth_count=market.booth_count,
        application_deadline=services.default_deadline(new_date),
        takings_ceiling=market.takings_ceiling,
        date_exception_reason=date_exception_reason,
        note=market.note,
    )
    return services.create_market(details, actor=actor)


describe_actions({"market.delete": _l("Market deleted")}, {})
