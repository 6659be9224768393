"""Hostile strings everywhere: every route of the app, GET and POST, as
each role, with control characters, NUL, very long text, invalid
UTF-8 and odd numbers in every form field, query argument and path argument.
Whatever comes in, no answer is a 5xx.

How it finds what to send: the routes come from `app.url_map`; the fields
from the forms a browser would see, found by rendering every GET page as
each role over a little seed data and parsing its <form> elements (the
action says which route takes them). A hostile value replaces one or more
fields of an otherwise valid form, so the request gets past the first
"required" check and into the view, the services and the database.

Hypothesis is derandomized (the same examples on every run, so CI is
repeatable) with a small number of examples per route; raise FUZZ_EXAMPLES
to look harder locally."""

import io
import itertools
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from market import create_app
from market.accounts.models import Role
from market.customers.models import CustomerImport
from market.extensions import db
from market.invitations import sending
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from market.vendors.models import Application, ApplicationStatus, VendorStatus
from tests.booths_factories import applicant, applicants, open_market
from tests.customer_factories import add_orders, make_customer
from tests.helpers import PASSWORD, login
from tests.markets_factories import make_venue, next_thursday
from tests.takings_factories import add_takings, days_ago, market_on, take_part, vendor_at
from tests.vendors_factories import make_application, make_vendor, today

# 20 examples a route: 60-80 seconds per database on two cores.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
ROLES = ("anonymous", "vendor", "other vendor", "staff", "admin")

# -- what to send -----------------------------------------------------------------------

LONG = b"\xea\xb0\x80" * 34_000  # 가 x 34,000: 100 kB of UTF-8
NUMBERS: list[bytes] = [
    b"9223372036854775808",
    b"-9223372036854775809",
    b"2147483648",
    b"99999999999999999999999999999999",
    b"-1",
    b"0",
    b"1.5",
    b"1e309",
    b"-1e309",
    b"NaN",
    b"inf",
    b"1_000",
    b"\xd9\xa1\xd9\xa2",  # Arabic-Indic digits, which int() accepts
]
STRINGS: list[bytes] = [
    b"",
    b" ",
    b"\x00",
    b"a\x00b",
    b"\r\n",
    b"name\r\nBcc: x@example.kr",
    b"\x1b[31m\x07\x08\x0b\x0c\x7f",
    b"\xc2\x85\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf",  # NEL, line/paragraph separators, BOM
    b"\xff\xfe",  # invalid UTF-8
    b"\xc3\x28",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    LONG,
    b"x" * 100_000,
    b"0001-01-01",
    b"9999-12-31",
    b"2026-02-30",
    b"99999-01-01",
    b"24:00",
    b"23:59:60",
    b"\xea\xb9\x80@example.kr",
    b"a,b@example.kr",
    b"<script>alert(1)</script>",
    b"{{ 7*7 }}",
    b"%s%n",
    b"../../etc/passwd",
    b"javascript:alert(1)",
    b"//evil.example/",
]
# Query arguments the views read (request.args) besides those of GET forms.
QUERY_NAMES = [
    "page",
    "markets_page",
    "vendors_page",
    "q",
    "status",
    "show",
    "category",
    "preview",
    "answer",
    "table",
    "lang",
    "next",
    "start",
    "end",
    "top_n",
    "action",
    "actor",
    "object_id",
    "_anchor",
    "_method",
    "endpoint",
]

hostile_bytes = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(STRINGS),
    st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=12),
)


def encode_pairs(pairs: list[tuple[str, bytes]], raw: bool) -> bytes:
    """application/x-www-form-urlencoded, percent-encoded or (raw) with the
    bytes left as they are except the separators: a client that sends
    invalid UTF-8 unencoded."""

    def one(value: bytes) -> bytes:
        if not raw:
            return quote_from_bytes(value, safe="").encode("ascii")
        for char in b"%&=+#":
            value = value.replace(bytes([char]), b"%%%02X" % char)
        return value

    return b"&".join(one(name.encode()) + b"=" + one(value) for name, value in pairs)


# -- the seed data ----------------------------------------------------------------------


@dataclass
class World:
    ids: dict[str, list[int]]
    tokens: list[str]
    users: dict[str, object]


def seed(app) -> World:
    """A little of everything, so pages reach their real code paths: an open
    market with an assigned, a waitlisted and an applied enterprise, a past
    market with takings, a pending enterprise, customers with orders and an
    invitation (an outbox message), and a customer import."""
    venue = make_venue("경기도청", 10)
    upcoming = open_market(weeks=2, booths=6, venue=venue)
    mine, mine_login = vendor_at(upcoming, "잔다리마을공동체")
    other, other_login = vendor_at(upcoming, "행복플러스")
    waiting = make_application(
        make_vendor("햇살협동조합"), upcoming, status=ApplicationStatus.WAITLISTED
    )
    applied = applicant(upcoming, "푸른들농장")
    markets.change_status(upcoming, MarketStatus.ASSIGNED)  # booths editable
    second = open_market(weeks=3, booths=4, venue=venue)  # an assignment to preview
    applicants(second, 3)
    pending = make_vendor("새싹공방", status=VendorStatus.PENDING)
    past = market_on(days_ago(7), venue=venue)
    take_part(mine, past)
    add_takings(mine, past, 120_000)
    hana = make_customer("hana@example.com", name="김하나")
    dul = make_customer("dul@example.com", name="이둘")
    add_orders(hana, 50_000, 30_000, vendor_id=mine.id)
    add_orders(dul, 20_000)
    db.session.commit()
    invited = sending.invite(upcoming, [hana.id], None, utcnow())
    db.session.flush()
    message = db.session.get(OutboxMessage, invited.invitations[0].outbox_message_id)
    message.status = OutboxStatus.FAILED  # staff may retry it
    db.session.commit()
    staff = _user(Role.STAFF, "staff@example.kr")
    admin = _user(Role.ADMIN, "admin@example.kr")
    importer = app.test_client()
    login(importer, staff)
    importer.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(ORDERS_CSV.encode("utf-8")), "orders.csv")},
        content_type="multipart/form-data",
    )
    return World(
        ids={
            "market_id": [upcoming.id, past.id, second.id],
            "vendor_id": [mine.id, other.id, pending.id],
            "application_id": [
                *db.session.scalars(select(Application.id).where(Application.vendor_id == mine.id)),
                waiting.id,
                applied.id,
            ],
            "customer_id": [hana.id, dul.id],
            "venue_id": [venue.id],
            "message_id": list(db.session.scalars(select(OutboxMessage.id))),
            "import_id": list(db.session.scalars(select(CustomerImport.id))),
        },
        tokens=[invited.invitations[0].token, mine.feed_token],
        users={"vendor": mine_login, "other vendor": other_login, "staff": staff, "admin": admin},
    )


ORDERS_CSV = (
    "주문번호,주문일자,구매자명,이메일,휴대폰번호,판매자,상품명,결제금액,마케팅수신동의,동의일시\n"
    "G-1,2026-11-01,김셋,set@example.com,010-1111-2222,잔다리마을공동체,두유,12000,Y,2026-01-05\n"
)


def _user(role: Role, email: str):
    from market.accounts.models import User

    user = User(email=email, name=role.value, role=role, active=True)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


# -- the forms a browser would see ------------------------------------------------------


@dataclass
class FormSpec:
    # name -> the valid values a browser could send, the one it would send
    # first (the page's own value, selected option or a plausible one)
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, FormSpec]] = []
        self.current: FormSpec | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = FormSpec()
            self.forms.append((a.get("action", ""), a.get("method", "get").upper(), self.current))
            return
        spec, name = self.current, a.get("name")
        chosen = "selected" in a or "checked" in a
        if tag == "option" and spec and self.select and a.get("value"):
            add(spec.fields[self.select], a["value"], chosen)
        if spec is None or not name:
            return
        values = spec.fields.setdefault(name, [])
        if tag == "input":
            kind = a.get("type", "text")
            if kind == "file":
                spec.files.add(name)
                spec.fields.pop(name)
            elif kind in ("checkbox", "radio"):
                add(values, a.get("value", "on"), chosen)
            elif a.get("value"):
                add(values, a["value"], True)
            else:
                values.extend(PLAUSIBLE.get(name) or PLAUSIBLE.get(f"type={kind}", []))
        elif tag == "button" and a.get("value"):
            add(values, a["value"], False)
        elif tag == "select":
            self.select = name
        elif tag == "textarea":
            self.textarea = name

    def handle_data(self, data):
        if self.textarea and self.current and data.strip():
            # A browser drops the line break that follows <textarea>.
            text = data.removeprefix("\n") if data.startswith("\n") else data.removeprefix("\r\n")
            add(self.current.fields[self.textarea], text, True)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def add(values: list[str], value: str, first: bool) -> None:
    if value not in values:
        values.insert(0, value) if first else values.append(value)


# Valid values for empty fields, so the other fields of a form pass and the
# hostile one reaches the code behind the form.
_THURSDAY = next_thursday(today(), weeks=8)
PLAUSIBLE = {
    "type=email": ["fuzz@example.kr"],
    "type=date": [_THURSDAY.isoformat()],
    "type=time": ["10:00"],
    "type=number": ["4"],
    "type=tel": ["010-2345-6789"],
    "type=url": ["https://shop.example.kr/fuzz"],
    "type=password": [PASSWORD],
    "name": ["행복플러스"],
    "business_number": ["124-81-00998"],
    "contact_name": ["김행복"],
    "phone": ["010-2345-6789"],
    "description": ["국내에서 만든 양말"],
    "cert_issuer": ["고용노동부"],
    "cert_number": ["2015-123"],
    "cert_issued_on": ["2020-01-02"],
    "reason": ["점검"],
    "address": ["경기도 수원시 팔달구 효원로 1"],
    "market_date": [_THURSDAY.isoformat()],
    "application_deadline": [f"{_THURSDAY - timedelta(days=3)}T18:00"],
    "start": [_THURSDAY.isoformat()],
    "end": [(_THURSDAY + timedelta(weeks=4)).isoformat()],
    "start_time": ["10:00"],
    "end_time": ["15:00"],
    "booth_spots": ["10"],
    "takings_ceiling": ["30000000"],
    "new_ceiling": ["40000000"],
    "amount": ["120000"],
    "top_n": ["50"],
    "window_days": ["365"],
    "min_orders": ["1"],
    "skip_weeks": ["0"],
}

_catalogue: dict[tuple[str, str], list[FormSpec]] = {}


def catalogue(app, world: World, clients: dict) -> dict[tuple[str, str], list[FormSpec]]:
    """(rule, method) -> the forms that post there, gathered once per run
    from every GET page as every role (the seed data is the same each time)."""
    if _catalogue:
        return _catalogue
    adapter = app.url_map.bind("market.test")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        for url, client in itertools.product(seed_paths(rule.rule, world), clients.values()):
            response = client.get(url)
            response.close()
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            parser = FormParser()
            parser.feed(response.get_data(as_text=True))
            for action, method, spec in parser.forms:
                path = urlsplit(action).path or url
                try:
                    matched, _args = adapter.match(path, method=method, return_rule=True)
                except HTTPException:
                    continue
                _catalogue.setdefault((matched.rule, method), []).append(spec)
    return _catalogue


def seed_paths(rule: str, world: World) -> list[str]:
    """The rule's path for every combination of seeded ids and tokens."""
    parts = ARGUMENT.split(rule)  # text, converter, name, text, converter, name, text
    choices = []
    for i in range(0, len(parts), 3):
        choices.append([parts[i]])
        if i + 2 < len(parts):
            converter, name = parts[i + 1], parts[i + 2]
            if converter == "int":
                choices.append([str(v) for v in world.ids.get(name, [1])])
            else:
                choices.append(["css/app.css"] if converter == "path" else world.tokens)
    return ["".join(combo) for combo in itertools.product(*choices)]


# -- the routes -------------------------------------------------------------------------

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
ODD_IDS = ["0", "2147483647", "2147483648", "9223372036854775808", "1" * 40]
ODD_SEGMENTS = [
    "%00",
    "ab%00cd",
    "%FF%FE",
    "%0D%0A",
    "x" * 5000,
    "..%2F..%2Fetc%2Fpasswd",
    "%E2%80%A8",
    "-1",
]


def build_path(rule: str, world: World, choose) -> str:
    def fill(match):
        converter, name = match.group(1) or "default", match.group(2)
        if converter == "int":  # mostly ids that exist, where the code is
            return choose([str(i) for i in world.ids.get(name, [1])] * 3 + ODD_IDS)
        if converter == "path":
            return choose(["css/app.css", "favicon.svg", *ODD_SEGMENTS])
        return choose(world.tokens + ODD_SEGMENTS)

    return ARGUMENT.sub(fill, rule)


def _routes() -> list:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [
        pytest.param(rule.endpoint, method, rule.rule, id=f"{method} {rule.rule}")
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"})
    ]


@pytest.fixture
def app_config(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")
    return app_config


@pytest.mark.parametrize(("endpoint", "method", "rule"), _routes())
def test_no_hostile_input_gets_a_server_error(app, endpoint, method, rule):
    world = seed(app)
    clients = {role: app.test_client() for role in ROLES}
    for role, user in world.users.items():
        assert login(clients[role], user).status_code == 302
    known = catalogue(app, world, clients)
    # A route no page has a form for (its form shows only in states the seed
    # lacks) gets the names of every field seen anywhere, all hostile.
    anywhere = FormSpec(
        fields={name: [] for specs in known.values() for s in specs for name in s.fields}
    )
    forms = known.get((rule, method)) or ([anywhere] if method == "POST" else [])
    # Most examples go to the roles the route lets in, where the code is.
    admitted = [role for role in ROLES if lets_in(clients[role], method, rule, world)]
    roles = admitted * 3 + [role for role in ROLES if role not in admitted]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one_request(data):
        role = data.draw(st.sampled_from(roles), label="role")
        path = build_path(rule, world, lambda choices: data.draw(st.sampled_from(choices)))
        query = [
            (name, data.draw(hostile_bytes, label=name))
            for name in QUERY_NAMES
            if data.draw(st.booleans(), label=f"send {name}")
        ]
        spec = data.draw(st.sampled_from(forms)) if forms else FormSpec()
        pairs = []
        if spec.fields:
            hostile = data.draw(
                st.sets(st.sampled_from(sorted(spec.fields)), min_size=1, max_size=3),
                label="hostile fields",
            )
            for name, values in spec.fields.items():
                if name in hostile:
                    pairs.append((name, data.draw(hostile_bytes, label=name)))
                elif values:
                    pairs.append((name, data.draw(st.sampled_from(values)).encode()))
        raw = data.draw(st.booleans(), label="raw bytes")
        request = {"method": method}
        if method == "GET":
            query = pairs + query
        elif spec.files:
            request["data"] = {name: value.decode("utf-8", "replace") for name, value in pairs}
            for name in spec.files:
                content = ORDERS_CSV.encode() + data.draw(hostile_bytes, label=name)
                request["data"][name] = (io.BytesIO(content), "orders.csv")
            request["content_type"] = "multipart/form-data"
        else:
            request["data"] = encode_pairs(pairs, raw)
            request["content_type"] = "application/x-www-form-urlencoded"
        request["query_string"] = encode_pairs(query, raw).decode("latin-1")
        try:
            response = clients[role].open(path, **request)
        except Exception as error:  # TESTING propagates the exception a 500 would hide
            raise AssertionError(f"{role} {method} {path} {request}: {error!r}") from error
        response.close()
        assert response.status_code < 500, f"{role} {method} {path} {request}"

    one_request()
    if method == "POST":
        read_back(app, world)


def read_back(app, world: World) -> None:
    """What the POSTs stored must not break the pages that show it: the
    public pages, feeds and mails' pages, the staff lists and records, the
    vendor's own pages, each read as the one who sees it."""
    market, past = world.ids["market_id"][:2]
    vendor = world.ids["vendor_id"][0]
    pages = {
        None: [
            "/",
            f"/markets/{market}",
            f"/markets/{market}.ics",
            "/calendar.ics",
            "/vendors/",
            f"/i/{world.tokens[0]}",
            f"/u/{world.tokens[0]}",
            f"/vendors/feed/{world.tokens[1]}.ics",
        ],
        "staff": [
            "/staff/",
            "/staff/vendors/?status=",
            f"/staff/vendors/{vendor}",
            f"/staff/markets/{market}",
            f"/staff/markets/{market}/booths",
            f"/staff/markets/{market}/applications",
            f"/staff/markets/{market}/invitations",
            f"/staff/markets/{past}/takings",
            "/staff/takings/report.csv?table=entries",
            "/staff/outbox/",
            "/staff/audit/",
            "/staff/venues/",
        ],
        "vendor": ["/vendor/", "/vendor/history", "/vendor/takings/", "/vendor/profile"],
    }
    for role, paths in pages.items():
        client = app.test_client()
        if role:
            login(client, world.users[role])
        for path in paths:
            try:
                response = client.get(path)
            except Exception as error:
                raise AssertionError(f"reading back {path} as {role}: {error!r}") from error
            response.close()
            assert response.status_code < 500, f"reading back {path} as {role}"


def lets_in(client, method: str, rule: str, world: World) -> bool:
    """Whether this client gets past the route's access check (no login
    redirect, no 403) with the seeded ids."""
    response = client.open(seed_paths(rule, world)[0], method=method)
    response.close()
    to_login = response.status_code == 302 and "/account/login" in response.location
    return not to_login and response.status_code != 403
