"""The printable market-day sheet (장터 당일 출력물): the booth map, one line
per booth with who to call, a box to tick attendance by hand, and a QR code
that opens the takings entry of this market on the vendor's phone.

The QR holds the vendor takings page of this market (takings_own.entry),
which acts for whoever is signed in: every booth's code at one market holds
the same address, and a vendor who scans it lands on its own entry after
logging in. A code that signed a vendor in by itself would let anyone who
picks up the sheet from the table enter takings for that booth; the sheet
lies on tables all day, so it carries no secret. The code is made once per
market and address (segno, pure Python, as inline SVG: the page's CSP
allows no inline style, and segno's SVG has none)."""

from dataclasses import dataclass

import segno
from markupsafe import Markup

from market.booths import screens
from market.booths.maps import BoothMap
from market.core.fragments import cached
from market.markets.models import Market
from market.outbox.compose import public_url
from market.vendors.models import Application

TAKINGS_ENDPOINT = "takings_own.entry"


@dataclass(frozen=True)
class SheetRow:
    number: int
    application: Application | None  # None: an empty booth


@dataclass(frozen=True)
class Sheet:
    market: Market
    rows: tuple[SheetRow, ...]
    booth_map: BoothMap
    takings_url: str
    qr: Markup

    @property
    def taken(self) -> int:
        return sum(1 for row in self.rows if row.application is not None)


def market_sheet(market: Market) -> Sheet:
    """Two queries (the stored booths with their applications and vendors)."""
    current = screens.current(market)
    rows = tuple(SheetRow(row.number, row.application) for row in current.rows)
    url = public_url(TAKINGS_ENDPOINT, market_id=market.id)
    return Sheet(market, rows, screens.staff_map(market, current), url, qr_svg(url))


def qr_svg(url: str) -> Markup:
    """A small QR code as inline SVG, sized by CSS through its viewBox."""

    def draw():
        code = segno.make(url, error="m")
        svg = code.svg_inline(border=2, omitsize=True, svgclass="qr-code", lineclass=None)
        return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))

    return cached("market-sheet-qr", url, draw)
