"""The visitor pass every invitation carries: a short code, unique within
its market, and a QR code of the invitation's check-in address
(checkin.visitor), which staff scan at the market entrance.

Nothing of the customer is in it: the address holds the market's id and
the code, which mean something only to staff looking them up in the
database. The QR code is made with segno (pure Python, already used for the
market-day sheet): SVG for our pages, PNG for mail, since Gmail and Outlook
show no SVG in a mail."""

import re
import struct
import zlib
from datetime import datetime
from functools import lru_cache

import segno
from flask import url_for
from markupsafe import Markup
from sqlalchemy import select

from market.customers.models import Customer
from market.extensions import db
from market.invitations.models import PASS_ALPHABET, PASS_LENGTH, Invitation, new_pass_code
from market.markets.models import Market
from market.outbox.compose import public_url
from market.timeutil import to_seoul

CHECK_IN_ENDPOINT = "checkin.visitor"

# Error correction M (15% of the symbol may be unreadable: a scratch on the
# print, a glare on a phone screen); segno raises it further when that
# still fits the same size. A 4-module quiet zone, as ISO/IEC 18004 asks.
ERROR = "m"
BORDER = 4
# Pixels per module in the mail's PNG: a code of a ~60-character address is
# 33 modules, so the image is 205 px square, shown at that size: 5 CSS
# pixels a module is what a phone camera reads from a screen or a print
# (about 4.3 cm at 120 dpi).
PNG_SCALE = 5
# The data mask, fixed. Any of the eight is valid (ISO/IEC 18004 §7.8) and
# every reader reads each; segno otherwise tries all eight and scores them,
# which took 3.4 of the 9.5 ms an invitation cost to build (a campaign of
# 10,000: 34 s). Mask 7 is the one segno's scoring picks most often for our
# pass addresses.
MASK = 7


def new_codes(market: Market, count: int) -> list[str]:
    """`count` different pass codes that no invitation of this market has
    yet: the market's codes are read once, and a code drawn twice is drawn
    again. Should another send take one of these codes between this read
    and the insert (two staff at the same moment while the market is not
    locked; one chance in 31**6 for each pair of codes), the unique
    constraint refuses it, and `invite` turns that into its clear "someone
    else sent invitations at the same time"."""
    used = set(
        db.session.scalars(select(Invitation.pass_code).where(Invitation.market_id == market.id))
    )
    codes: list[str] = []
    while len(codes) < count:
        code = new_pass_code()
        if code not in used:
            used.add(code)
            codes.append(code)
    return codes


def check_in_url(market_id: int, code: str) -> str:
    """The absolute address the QR code carries, made as every mail link
    is (PUBLIC_BASE_URL when set)."""
    return public_url(CHECK_IN_ENDPOINT, market_id=market_id, code=code)


def check_in_prefixes(market_id: int) -> list[str]:
    """The beginnings of the pass addresses of this market that the scanner
    page accepts, each followed by a code: the one the passes carry
    (PUBLIC_BASE_URL) and the one this request came to, since staff may
    open the page at another address than the mail's (www. or not, a LAN
    address with `make run`). Another market's or another site's address
    matches neither. Inside a request."""
    placeholder = PASS_ALPHABET[0] * PASS_LENGTH
    addresses = (
        check_in_url(market_id, placeholder),
        url_for(CHECK_IN_ENDPOINT, market_id=market_id, code=placeholder, _external=True),
    )
    return list(dict.fromkeys(address.removesuffix(placeholder) for address in addresses))


def _qr(url: str) -> segno.QRCode:
    # Never a Micro QR code: many phone cameras do not read those.
    return segno.make(url, error=ERROR, micro=False, mask=MASK)


def qr_png(url: str) -> tuple[bytes, int]:
    """The QR code as a black-and-white PNG, and its width (= height) in pixels."""
    return png_of(_qr(url))


def png_of(code: segno.QRCode) -> tuple[bytes, int]:
    """The code as a 1-bit greyscale PNG (black on white, PNG_SCALE pixels
    a module, a BORDER-module quiet zone), and its width in pixels: the
    pixels segno's own PNG writer draws, written in a tenth of its time
    (0.07 instead of 0.67 ms: it filters and writes row by row, for any
    colours)."""
    return _png(code.matrix)


def _png(matrix) -> tuple[bytes, int]:
    """png_of for the rows of a code's matrix (one byte a module, 1 = dark).
    Each module row is one scanline, repeated PNG_SCALE times."""
    modules = len(matrix) + 2 * BORDER
    width = modules * PNG_SCALE
    row_bytes = (width + 7) // 8
    padding = b"1" * (row_bytes * 8 - width)  # a scanline ends on a whole byte
    quiet = b"\0" * BORDER
    light = (b"\0" + b"\xff" * row_bytes) * (BORDER * PNG_SCALE)  # \0: no filter
    scanlines = [light]
    for row in matrix:  # 1 = dark module; in the PNG 0 is black
        bits = (quiet + bytes(row) + quiet).replace(b"\0", b"1" * PNG_SCALE)
        bits = bits.replace(b"\1", b"0" * PNG_SCALE) + padding
        scanlines.append((b"\0" + int(bits, 2).to_bytes(row_bytes, "big")) * PNG_SCALE)
    scanlines.append(light)
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    png = b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(b"".join(scanlines), 9)),
            _png_chunk(b"IEND", b""),
        )
    )
    return png, width


class PassImages:
    """The PNG of each pass of one market, as qr_png makes it (the same
    bytes: a test compares them), for the thousands of passes a campaign
    sends: segno making each code took two thirds of an invitation's time.

    Only the code changes from one pass address to the next, and a QR code
    of a fixed length, error level and mask is an affine function of its
    data bits over GF(2): the Reed-Solomon codewords are linear in the data
    codewords, and the placement and the mask are fixed. So segno makes the
    code of one address, and of the same address with each bit of each of
    the code's characters flipped, once per market and process; a pass is
    then that first matrix XORed with the changes its characters make. A
    code of another length or one the address would %-quote, or an address
    segno would not write in byte mode, goes to qr_png."""

    def __init__(self, market_id: int, length: int = PASS_LENGTH):
        head, _found, tail = check_in_url(market_id, "CODE").rpartition("CODE")
        self.length = length
        self._basis = _qr_basis(head, tail, length)
        self.market_id = market_id
        self._deltas: dict[tuple[int, str], int] = {}

    def png(self, code: str) -> tuple[bytes, int]:
        if self._basis is None or len(code) != self.length or not _UNQUOTED.fullmatch(code):
            return qr_png(check_in_url(self.market_id, code))
        base, flips, size = self._basis
        matrix = base
        for position, char in enumerate(code):
            delta = self._deltas.get((position, char))
            if delta is None:
                delta = self._deltas[(position, char)] = _delta(flips[position], ord(char))
            matrix ^= delta
        modules = matrix.to_bytes(size * size, "big")
        return _png([modules[start : start + size] for start in range(0, size * size, size)])


# Codes the address holds as they are (no %-quoting): new_pass_code's.
_UNQUOTED = re.compile(r"[A-Za-z0-9_-]+")
# The character every position of the basis code holds (its own bits are the
# ones flipped): any of the eight bits may then give a Latin-1 character.
_BASIS_CHAR = "\0"


def _delta(flips: list[int], value: int) -> int:
    """The change to the matrix when a position of the basis code holds the
    character `value` (bit k of value set: the change of flipping bit k)."""
    delta = 0
    for bit, flip in enumerate(flips):
        if value >> bit & 1:
            delta ^= flip
    return delta


@lru_cache(maxsize=16)
def _qr_basis(head: str, tail: str, length: int) -> tuple[int, list[list[int]], int] | None:
    """The matrix (one byte a module, as one int) of head + `length` basis
    characters + tail, and for each position the change flipping each of
    its eight bits makes; None when the codes of these addresses are not
    all made alike (segno would choose another mode, version or error
    level for some: an affine map would not give its matrix)."""
    if not (head + tail).isascii() or not any(char.islower() for char in head + tail):
        # Byte mode for every code only if the fixed part holds a character
        # the alphanumeric mode has not (a lower-case letter): otherwise
        # an upper-case code could make segno pick that mode.
        return None

    def made(code: str) -> tuple[int, tuple]:
        qr = _qr(f"{head}{code}{tail}")
        kind = (qr.version, qr.error, qr.mode, len(qr.matrix))
        return int.from_bytes(b"".join(qr.matrix), "big"), kind

    base, kind = made(_BASIS_CHAR * length)
    if kind[2] != "byte":
        return None
    flips = []
    for position in range(length):
        changes = []
        for bit in range(8):
            char = chr(ord(_BASIS_CHAR) ^ (1 << bit))
            matrix, other = made(
                _BASIS_CHAR * position + char + _BASIS_CHAR * (length - position - 1)
            )
            if other != kind:
                return None
            changes.append(matrix ^ base)
        flips.append(changes)
    return base, flips, kind[3]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def qr_svg(url: str, title: str) -> Markup:
    """The QR code as inline SVG for a page, sized by CSS through its
    viewBox (.pass-qr). Presentation attributes only, no style: our CSP
    allows no inline style. A white background, so the quiet zone is light
    whatever is behind it."""
    svg = _qr(url).svg_inline(
        border=BORDER,
        omitsize=True,
        svgclass="pass-qr",
        lineclass=None,
        dark="#000",
        light="#fff",
        title=title,
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def shows_pass(market: Market, customer: Customer, now: datetime) -> bool:
    """Whether the RSVP page shows the pass. Not for a cancelled market nor
    after its day (nothing to check in to), and not for a customer who
    unsubscribed: they asked to hear no more from us, so their visit is not
    linked back to them either (the market is open to everyone; the pass
    only tells the center the invitation worked)."""
    return (
        not market.is_cancelled
        and customer.unsubscribed_at is None
        and market.market_date >= to_seoul(now).date()
    )
