"""The words of a mail: one way to write them for every mail the center sends.

An area that sends mail (market.vendors.mails, market.booths.mails,
market.invitations.messages) says who gets it, which template and with which
values; the words are Jinja templates under templates/mail/: `<name>.txt`,
and `<name>.html` where the mail has an HTML part, rendered by `write`.

They are written in Korean in the templates, not as English msgids: a mail
has one language, the one its reader reads, whatever language the staff
member's screen is in, and babel extracts no .txt template, so a msgid there
would drop out of the catalogue. So no `_()` and no filter that formats by
the current locale in a mail template: it would follow the staff member's
screen. Links in a mail are absolute (`public_url`)."""

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from flask import current_app, render_template, url_for
from jinja2 import TemplateNotFound

# How the subject of a notice (not advertising) to an enterprise starts.
NOTICE_TAG = "[굿모닝장터]"


@dataclass(frozen=True)
class Written:
    text: str
    html: str | None = None


def write(name: str, /, *, html: bool = True, **values) -> Written:
    """templates/mail/<name>.txt and, where there is one (and `html` is not
    turned off, for a preview that shows only the text), <name>.html,
    rendered with `values` and the center's details (center_name,
    center_address, center_phone; `values` may set their own)."""
    context = {**center(), **values}
    text = render_template(f"mail/{name}.txt", **context)
    page = None
    if html and _exists(f"mail/{name}.html"):
        page = render_template(f"mail/{name}.html", **context)
    return Written(text, page)


def _exists(template: str) -> bool:
    try:
        current_app.jinja_env.get_template(template)  # cached after the first look
    except TemplateNotFound:
        return False
    return True


def center() -> dict[str, str]:
    """Who sends the mail, as every mail's closing names it."""
    config = current_app.config
    return {
        "center_name": config["CENTER_NAME"],
        "center_address": config["CENTER_ADDRESS"],
        "center_phone": config["CENTER_PHONE"],
    }


def notice_subject(subject: str) -> str:
    return f"{NOTICE_TAG} {subject}"


def public_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: from PUBLIC_BASE_URL (say
    https://market.example.kr) when set, so mail made by a worker or a CLI
    command links to the public host; else Flask's own external URL."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        parts = urlsplit(base.rstrip("/"))
        adapter = current_app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
        )
        return adapter.build(endpoint, values, force_external=True)
    return url_for(endpoint, _external=True, **values)


def ascii_url(url: str) -> str:
    """The link with its path, query and fragment percent-encoded (UTF-8):
    a plain-text mail client cuts a link at the first Korean character
    (https://map.naver.com/p/search/경기도청). What is already encoded,
    and the URL's own delimiters, are kept."""
    if not url or url.isascii():
        return url
    parts = urlsplit(url)
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            quote(parts.path, safe="/%:@!$&'()*+,;=~"),
            quote(parts.query, safe="/%:@!$&'()*+,;=~?"),
            quote(parts.fragment, safe="/%:@!$&'()*+,;=~?"),
        )
    )
