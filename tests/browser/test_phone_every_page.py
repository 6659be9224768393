"""Every page of the app on a 360 px phone, as each role that can see it.

The list of pages is built from the app's url_map (so a page added later is
checked without touching this file): every GET route but static files, its
ids taken from the demo data (`flask seed-demo`, one row per status where the
table has one), its tokens from the links the app has mailed (the outbox).
A page counts for a role when it answers that role 200 with HTML; downloads
and redirects are left out. On each page:

- nothing is wider than the screen: the document does not scroll sideways,
  and no element's box reaches past the viewport or spills out of its own
  box, unless it sits inside a container meant to scroll or clip (a table in
  its .table-scroll, the tab row);
- every visible link, button and field is at least 24 x 24 CSS px (WCAG 2.2,
  2.5.8), or keeps the criterion's exceptions: a link inside a sentence, or
  a target whose 24 px circle meets no other target.

The failures name the role, the page and the element. The open menu is
checked too, once per role."""

import itertools
import json
from pathlib import Path

import pytest
from werkzeug.exceptions import HTTPException

from market import create_app
from market.demo import DEMO_PASSWORD, DEMO_USERS
from tests.browser.conftest import log_in

WIDTH = 360
PER_RULE = 8  # pages per route at most (ids combined across arguments)

# Runs in the page; returns a list of problems (strings).
CHECK = (Path(__file__).parent / "phone_check.js").read_text()

VALUES = """
import json
from urllib.parse import urlsplit
from email import policy
from email.parser import BytesParser
import re
from sqlalchemy import func, select
from market.extensions import db
from market.outbox.models import OutboxMessage
NAMES = json.loads({names!r})
tables = db.metadata.tables
ids = {{}}
for name in NAMES:
    stem = name[:-3]
    matching = [t for n, t in tables.items()
                if n in (stem + "s", stem + "es") or n.endswith("_" + stem + "s")]
    found = []
    for table in matching:
        if "status" in table.c:
            rows = db.session.execute(select(func.min(table.c.id)).group_by(table.c.status))
        else:
            first, last = select(func.min(table.c.id)), select(func.max(table.c.id))
            rows = db.session.execute(first.union(last))
        found += sorted(v for (v,) in rows if v is not None)
    ids[name] = found or [1]
paths = set()
for (mime,) in db.session.execute(select(OutboxMessage.mime)):
    message = BytesParser(policy=policy.default).parsebytes(mime)
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            for url in re.findall(r"https?://[^\\s\\"'<>)]+", part.get_content()):
                paths.add(urlsplit(url).path)
print(json.dumps({{"ids": ids, "mailed": sorted(paths)}}))
"""


def _rules():
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = [
        rule
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
        if "GET" in rule.methods and rule.endpoint != "static"
    ]
    return app, rules


def page_paths(server) -> list[str]:
    app, rules = _rules()
    names = sorted({n for rule in rules for n in rule.arguments if n.endswith("_id")})
    found = json.loads(server.python(VALUES.format(names=json.dumps(names))).splitlines()[-1])
    adapter = app.url_map.bind("market.test")
    paths = []
    for rule in rules:
        wanted = set(rule.arguments) - set(rule.defaults or {})
        if not wanted:
            paths.append(adapter.build(rule.endpoint, dict(rule.defaults or {})))
        elif all(n.endswith("_id") for n in wanted):
            names = sorted(wanted)
            combos = itertools.product(*(found["ids"][n] for n in names))
            for combo in itertools.islice(combos, PER_RULE):
                paths.append(adapter.build(rule.endpoint, dict(zip(names, combo, strict=True))))
        else:  # tokens: the links the app mailed that lead to this route
            for path in found["mailed"]:
                try:
                    matched, _args = adapter.match(path, return_rule=True)
                except HTTPException:  # not this route
                    continue
                if matched is rule:
                    paths.append(path)
    return sorted(set(paths))


# Asked with the browser's own fetch (its cookies, and its trust in the
# test proxy's certificate): a page answers 200 with HTML and is no download.
IS_PAGE = """async (url) => {
  const response = await fetch(url, { redirect: "manual", credentials: "same-origin" });
  const type = response.headers.get("content-type") || "";
  const disposition = response.headers.get("content-disposition") || "";
  const html = type.startsWith("text/html") && !disposition.includes("attachment");
  return response.status === 200 && html;
}"""


# Other journeys ran first on this database, so the demo's "nearest market"
# may be one of theirs, where the demo leaves the booths alone. Staff confirm
# the booths of the demo vendor's nearest market it applied to, as they would,
# so the vendor home has a booth of its own to mark.
CONFIRM_DEMO_VENDOR_BOOTH = """
from sqlalchemy import select
from market.accounts.models import User
from market.booths import services
from market.booths.models import Booth
from market.extensions import db
from market.markets.models import Market
from market.timeutil import today_seoul
from market.vendors.models import Application
vendor_id = db.session.scalar(select(User.vendor_id).where(User.email == "vendor@demo.market.kr"))
upcoming = Market.market_date >= today_seoul()
booth = select(Booth.id).join(Market, Market.id == Booth.market_id)
if db.session.scalar(booth.where(Booth.vendor_id == vendor_id, upcoming).limit(1)) is None:
    applied = select(Market.id).join(Application, Application.market_id == Market.id)
    applied = applied.where(Application.vendor_id == vendor_id, upcoming)
    nearest = db.session.scalar(applied.order_by(Market.market_date).limit(1))
    services.confirm(nearest, None, replace=True)
    db.session.commit()
"""


@pytest.fixture(scope="module")
def demo(server):
    server.flask("seed-demo")
    server.python(CONFIRM_DEMO_VENDOR_BOOTH)
    return server


def test_every_page_fits_a_phone_with_big_enough_tap_targets(demo, browser):
    paths = page_paths(demo)
    roles = [("anonymous", None)] + [(role.value, email) for email, _name, role in DEMO_USERS]
    seen: dict[str, list[str]] = {}
    problems = []
    for role, email in roles:
        context = browser.new_context(
            viewport={"width": WIDTH, "height": 740},
            locale="ko-KR",
            timezone_id="Asia/Seoul",
            is_mobile=True,
            has_touch=True,
        )
        page = context.new_page()
        if email:
            log_in(page, demo.url, email, DEMO_PASSWORD)
        # A second tab asks whether each address is a page (from the home
        # page: a page sandboxed by its CSP, a mail's HTML part, cannot fetch).
        probe = context.new_page()
        probe.goto(demo.url + "/")
        # The open menu, on the first page.
        page.goto(demo.url + "/")
        page.locator("summary.menu-button").click()
        problems += [f"{role} / (menu open): {p}" for p in page.evaluate(CHECK)]
        for path in paths:
            if path.startswith("/account/logout"):
                continue
            url = demo.url + path
            if not probe.evaluate(IS_PAGE, url):
                continue
            page.goto(url)
            page.wait_for_load_state()
            seen.setdefault(role, []).append(path)
            problems += [f"{role} {path}: {p}" for p in page.evaluate(CHECK)]
        context.close()
        print(f"{role}: {len(seen.get(role, []))} pages checked at {WIDTH} px")
    # The list really covers the app: every role saw its own pages.
    assert "/staff/" in seen["staff"] and "/vendor/" in seen["vendor"]
    assert "/" in seen["anonymous"] and "/staff/" not in seen["anonymous"]
    assert any(p.startswith("/i/") for p in seen["anonymous"]), "no invitation page was checked"
    assert problems == [], f"{len(problems)} problems at {WIDTH} px:\n" + "\n".join(problems)


def test_vendor_copies_its_calendar_address_on_a_phone(demo, browser):
    """webcal does nothing on most Android phones: the copy button puts the
    private address on the clipboard; the menu folds behind 메뉴."""
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 740}, locale="ko-KR", is_mobile=True, has_touch=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.url)
    page = context.new_page()
    log_in(page, demo.url, "vendor@demo.market.kr", DEMO_PASSWORD)
    page.goto(demo.url + "/vendor/")
    menu_link = page.locator("nav.site-nav").get_by_role("link", name="내 매출")
    assert not menu_link.is_visible()  # folded
    page.locator("nav.site-nav").get_by_text("메뉴").click()
    assert menu_link.is_visible()
    address = page.locator("#feed-url").input_value()
    assert "/vendors/feed/" in address
    page.get_by_role("button", name="주소 복사").click()
    page.get_by_text("주소를 복사했습니다.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == address
    # 내 부스 on the phone's two-row drawing (the one-row drawing is hidden).
    assert page.locator(".booth-map-narrow .booth-mine").is_visible()
    assert not page.locator(".booth-map-wide .booth-mine").is_visible()
    context.close()
