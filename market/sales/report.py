"""The 판로지원 실적 report: the figures (market.sales.figures) grouped by
enterprise type and category, totalled, compared with a year earlier and
put into a sentence the center can paste into its own report.

Totals and subtotals are sums over the per-enterprise rows (a few hundred
rows, not orders), so they add up to the table by construction. They cover
the enterprises; online sales whose seller matched no enterprise are shown
apart (`unmatched`), never added in silently and never dropped."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.sales.figures import (
    EnterpriseFigures,
    Figures,
    MonthChannels,
    Online,
    PeriodFigures,
    SellerFigures,
    enterprise_figures,
)
from market.timeutil import format_won
from market.vendors.labels import category_label, enterprise_type_label
from market.vendors.models import Category, EnterpriseType

TOP_ENTERPRISES = 10

# The six types the center reports on, in the order it writes them; 예비
# 사회적기업 is one type of two kinds (지역형, 부처형), shown as its parts.
# 기타 (OTHER) comes after them, apart, when an enterprise of it sold.
REPORT_TYPES = (
    ("social", _l("Social enterprise"), (EnterpriseType.SOCIAL,)),
    (
        "pre_social",
        _l("Pre-certified social enterprise"),
        (EnterpriseType.PRE_SOCIAL_REGIONAL, EnterpriseType.PRE_SOCIAL_MINISTRY),
    ),
    ("village", _l("Village enterprise"), (EnterpriseType.VILLAGE,)),
    ("self_sufficiency", _l("Self-sufficiency enterprise"), (EnterpriseType.SELF_SUFFICIENCY,)),
    ("cooperative", _l("Cooperative"), (EnterpriseType.COOPERATIVE,)),
    (
        "social_cooperative",
        _l("Social cooperative"),
        (EnterpriseType.SOCIAL_COOPERATIVE,),
    ),
)
OTHER_TYPE = ("other", _l("Other social-economy enterprise"), (EnterpriseType.OTHER,))


def change(current: int, previous: int) -> float | None:
    """Percent change against the year before; None when there is nothing to
    compare with (the page says 전년 자료 없음 rather than +∞%)."""
    if not previous:
        return None
    return 100 * (current - previous) / previous


@dataclass(frozen=True)
class Coverage:
    """Which channels have any data a year earlier: takings entered for a
    market day, orders imported. A channel without data is unknown, not ₩0."""

    offline: bool = True
    online: bool = True


@dataclass(frozen=True)
class Comparison:
    """A total's change on a year earlier, or why it is not compared."""

    percent: float | None
    missing: str | None = None  # "offline"/"online": no data a year earlier, total not compared
    other_sold: bool = False  # the other channel sold now (else the total is that one channel)


def compare_total(now: Figures, before: Figures, coverage: Coverage) -> Comparison:
    """The one rule for a total's change (the report's, a type's, a category's,
    an enterprise's; page, XLSX and CSV alike): a total is compared only where
    the year before has data for what it adds up. A channel that sold now
    but has no data at all a year earlier (e.g. takings were not yet entered
    in the app) would count as ₩0 and overstate the growth: the total is then
    not compared, and each channel's own change is shown instead."""
    if now.offline.total and not coverage.offline:
        return Comparison(None, "offline", bool(now.online.total))
    if now.online.total and not coverage.online:
        return Comparison(None, "online", bool(now.offline.total))
    return Comparison(change(now.total, before.total))


@dataclass
class Group:
    """A total over enterprises: all of them, one type, or one category."""

    key: object
    label: str
    rows: list[EnterpriseFigures] = field(default_factory=list)
    current: Figures = field(default_factory=Figures)
    previous: Figures = field(default_factory=Figures)
    parts: list["Group"] = field(default_factory=list)  # 예비사회적기업: 지역형, 부처형
    kinds: tuple[EnterpriseType, ...] = ()  # a type group's enterprise types
    # Enterprises that sold anything in the period, counted as rows are added:
    # the page reads it several times per group, and the whole report's group
    # holds every enterprise (thousands on ten years).
    enterprises: int = 0

    def add(self, row: EnterpriseFigures) -> None:
        self.rows.append(row)
        self.current += row.current
        self.previous += row.previous
        if row.active:
            self.enterprises += 1
        for part in self.parts:
            if part.key == row.enterprise_type:
                part.add(row)

    def change(self, channel: str = "total") -> float | None:
        if channel == "total":
            return change(self.current.total, self.previous.total)
        now, before = getattr(self.current, channel), getattr(self.previous, channel)
        return change(now.total, before.total)


# The report is built once and kept (market.sales.cache) and read many times
# per page: what it works out from its rows is worked out once (cached_property;
# nothing changes a report after build_report returns it).
@dataclass
class SalesReport:
    start: date
    end: date
    previous_start: date
    previous_end: date
    enterprises: list[EnterpriseFigures]  # highest total first
    unmatched: list[SellerFigures]
    months: list[MonthChannels]
    total: Group
    by_type: list[Group]  # the six of REPORT_TYPES, always; then 기타 if it has rows
    by_category: list[Group]  # highest total first
    unmatched_current: Online = field(default_factory=Online)
    unmatched_previous: Online = field(default_factory=Online)
    # The page's parts drawn from this report alone (market.sales.views),
    # by language and what else they show: see kept_html.
    rendered: dict = field(default_factory=dict, repr=False, compare=False)

    def kept_html(self, key: tuple | None, caller) -> str:
        """The HTML of a `{% call report.kept_html(key) %}` block: rendered
        the first time, then reused for as long as this report is kept (it
        changes only when its fingerprint does, and then it is a new report).
        `key` names what the block shows besides the report (its part, the
        language, the page of the table); None renders it every time."""
        if key is None:
            return caller()
        html = self.rendered.get(key)
        if html is None:
            html = self.rendered[key] = caller()
        return html

    @cached_property
    def coverage(self) -> Coverage:
        """Whether the year before has takings and orders at all (any
        enterprise's, or an unmatched seller's order)."""
        before = self.total.previous
        return Coverage(
            offline=bool(before.offline.market_days or before.offline.total),
            online=bool(before.online.orders or self.unmatched_previous.orders),
        )

    def compare(self, now: Figures, before: Figures) -> Comparison:
        return compare_total(now, before, self.coverage)

    @cached_property
    def market_days(self) -> int:
        """Distinct market days with takings: months never share a market day."""
        return sum(month.market_days for month in self.months)

    @cached_property
    def unmatched_now(self) -> list[SellerFigures]:
        """Unmatched sellers with orders in the period (`unmatched` also holds
        those with orders only a year earlier, for the comparison)."""
        return [row for row in self.unmatched if row.current.orders]

    @cached_property
    def top(self) -> list[EnterpriseFigures]:
        return [row for row in self.enterprises if row.current.total][:TOP_ENTERPRISES]

    @cached_property
    def by_type_rows(self) -> list[EnterpriseFigures]:
        """Every enterprise, grouped by type (REPORT_TYPES), highest first within."""
        return [row for group in self.by_type for row in group.rows]

    @cached_property
    def type_of(self) -> dict[EnterpriseType, Group]:
        """The report's type group of each enterprise type."""
        return {kind: group for group in self.by_type for kind in group.kinds}


def _type_groups() -> tuple[list[Group], dict[EnterpriseType, Group]]:
    groups, of_type = [], {}
    for key, label, kinds in (*REPORT_TYPES, OTHER_TYPE):
        parts = (
            [Group(kind, enterprise_type_label(kind)) for kind in kinds] if len(kinds) > 1 else []
        )
        group = Group(key, str(label), parts=parts, kinds=kinds)
        groups.append(group)
        of_type.update(dict.fromkeys(kinds, group))
    return groups, of_type


def build_report(start: date, end: date, figures: PeriodFigures | None = None) -> SalesReport:
    """Four statements whatever the data size: takings and orders per month,
    takings and orders per enterprise (both with the year before); none
    when the figures are given (market.sales.cache keeps their halves)."""
    figures = figures or enterprise_figures(start, end)
    total = Group("all", _("All enterprises"))
    types, type_of = _type_groups()
    categories: dict[Category, Group] = {}
    for row in figures.enterprises:
        total.add(row)
        type_of[row.enterprise_type].add(row)
        category = row.category
        categories.setdefault(category, Group(category, category_label(category))).add(row)
    report = SalesReport(
        start=start,
        end=end,
        previous_start=figures.previous_start,
        previous_end=figures.previous_end,
        enterprises=figures.enterprises,
        unmatched=figures.unmatched,
        months=figures.months,
        total=total,
        by_type=types[:-1] + [group for group in types[-1:] if group.rows],  # 기타 if any
        by_category=sorted(
            categories.values(), key=lambda group: (-group.current.total, group.label)
        ),
    )
    for seller in figures.unmatched:
        report.unmatched_current += seller.current
        report.unmatched_previous += seller.previous
    return report


# -- words ------------------------------------------------------------------------------


def _last_day_of_month(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def period_label(start: date, end: date) -> str:
    """The period as the center writes it: 2026년, 2026년 4월, 2026년 1–4월,
    2025년 11월–2026년 2월, or with days when it does not follow months."""
    whole_months = start.day == 1 and _last_day_of_month(end)
    if whole_months and start.year == end.year:
        if (start.month, end.month) == (1, 12):
            return _("%(year)d (whole year)", year=start.year)
        if start.month == end.month:
            return _("%(year)d-%(month)02d", year=start.year, month=start.month)
        return _(
            "%(year)d-%(first)02d to %(year)d-%(last)02d",
            year=start.year,
            first=start.month,
            last=end.month,
        )
    if whole_months:
        return _(
            "%(first_year)d-%(first)02d to %(last_year)d-%(last)02d",
            first_year=start.year,
            first=start.month,
            last_year=end.year,
            last=end.month,
        )
    if start == end:
        return _(
            "%(year)d-%(month)02d-%(day)02d", year=start.year, month=start.month, day=start.day
        )
    if start.year == end.year:
        return _(
            "%(year)d-%(m1)02d-%(d1)02d to %(m2)02d-%(d2)02d",
            year=start.year,
            m1=start.month,
            d1=start.day,
            m2=end.month,
            d2=end.day,
        )
    return _(
        "%(y1)d-%(m1)02d-%(d1)02d to %(y2)d-%(m2)02d-%(d2)02d",
        y1=start.year,
        m1=start.month,
        d1=start.day,
        y2=end.year,
        m2=end.month,
        d2=end.day,
    )


def headline(report: SalesReport) -> str:
    """One sentence built from the numbers, to paste into the center's
    report; counts only enterprises that sold something in the period."""
    return _(
        "%(period)s: %(count)s enterprises, online %(online)s · market %(offline)s "
        "(%(days)s market days)",
        period=period_label(report.start, report.end),
        count=f"{report.total.enterprises:,}",
        online=format_won(report.total.current.online.total),
        offline=format_won(report.total.current.offline.total),
        days=f"{report.market_days:,}",
    )


def comparison_label(comparison: Comparison) -> str:
    """change_label, or which channel had no data a year earlier (and, when
    the other channel sold too, that the total is not compared)."""
    if comparison.missing == "offline" and comparison.other_sold:
        return _("No market data a year earlier: total not compared")
    if comparison.missing == "online" and comparison.other_sold:
        return _("No online data a year earlier: total not compared")
    if comparison.missing == "offline":
        return _("No market data a year earlier")
    if comparison.missing == "online":
        return _("No online data a year earlier")
    return change_label(comparison.percent)


def change_label(percent: float | None) -> str:
    """↑ 12.5% / ↓ 3.0% / 0.0%, or 전년 자료 없음 when there is nothing before."""
    if percent is None:
        return _("no data a year earlier")
    if percent > 0:
        return f"↑ {percent:,.1f}%"
    if percent < 0:
        return f"↓ {-percent:,.1f}%"
    return "0.0%"
