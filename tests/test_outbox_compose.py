"""Every mail is written one way: Korean templates under templates/mail/,
rendered by market.outbox.compose.write."""

from pathlib import Path

from flask_babel import force_locale

from market.booths.mails import News, message
from market.outbox.compose import write
from market.outbox.mime import parse
from market.timeutil import today_seoul
from market.vendors.models import Application, Vendor, VendorStatus
from tests.markets_factories import make_market, make_venue, next_thursday

MAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"


def test_mail_templates_are_written_in_korean_not_msgids():
    """babel extracts no .txt template: a msgid in one would fall out of the
    catalogue, and gettext would follow the staff member's screen language."""
    templates = sorted(MAIL_TEMPLATES.glob("*.*"))
    assert {path.name for path in templates} >= {"invitation.txt", "vendor_status.txt", "booth.txt"}
    for path in templates:
        source = path.read_text(encoding="utf-8")
        assert "_(" not in source and "gettext" not in source, path.name


def test_write_renders_html_only_where_the_mail_has_a_template_for_it(app):
    with app.test_request_context():
        written = write(
            "vendor_status",
            contact_name="김담당",
            name="행복협동조합",
            status=VendorStatus.APPROVED,
            reason=None,
            link=None,
        )
    assert written.html is None
    assert written.text.startswith("김담당님, 안녕하세요.\n\n행복협동조합의 굿모닝장터")
    assert written.text.rstrip().endswith(app.config["CENTER_ADDRESS"])


def test_booth_mail_reads_the_same_whatever_the_staff_screen_language(app):
    market = make_market(make_venue(), next_thursday(today_seoul()))
    vendor = Vendor(name="행복협동조합", contact_name="김담당", email="kim@example.kr")
    application = Application(vendor=vendor, waitlist_position=2)
    bodies = []
    for locale in ("ko", "en"):
        with app.test_request_context(), force_locale(locale):
            built = message(application, market, News.WAITLISTED)
        bodies.append(parse(bytes(built)).get_body(("plain",)).get_content())
    assert bodies[0] == bodies[1]
    assert "귀 기업은 대기 2순위입니다." in bodies[0]
