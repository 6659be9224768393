"""Invitation pages: for staff, the ranking, a preview of the mail and
sending; for customers (no login, the token in the link is the key), the
answer page and the unsubscribe page.

GET never changes anything (mail scanners follow links), with one exception
behind the staff login: the ranking page computes its snapshot the first time
it is viewed with some options, which only fills what it reads. The
unsubscribe POST also takes the RFC 8058 one-click request that mail
providers send, which carries no CSRF token."""

from datetime import datetime, time, timedelta

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from market.accounts.decorators import staff_required
from market.core import pagecache, versions
from market.core.converters import parse_id
from market.core.exports import send_table
from market.core.fragments import cached
from market.core.i18n import label_text
from market.core.pagination import paginate_rows
from market.core.signed_in_pages import signed_in_page
from market.core.transaction import saving
from market.customers.models import Customer
from market.extensions import csrf, db
from market.invitations import answers, exports, passes, queries, sending, snapshots
from market.invitations.forms import AnswerForm, RankingForm, SendForm
from market.invitations.funnel_report import SOURCE_LABELS
from market.invitations.messages import (
    ONE_CLICK,
    MailKind,
    attending_vendors,
    invitation_message,
    mask_email,
    preview_parts,
)
from market.invitations.models import Invitation, InvitationStatus
from market.invitations.ranking import RankingOptions
from market.markets.models import Market, Venue
from market.markets.services import ends_at
from market.outbox.mime import parse, with_images
from market.outbox.models import OutboxStatus
from market.outbox.views import HTML_PART_POLICY
from market.timeutil import SEOUL, next_send_time, utcnow
from market.validators import has_control_characters
from market.vendors.models import Application, Vendor

bp = Blueprint("invitations", __name__)

# What the answer page shows (market.core.pagecache keeps it per address):
# the invitation and its customer, the market and its venue, the enterprises
# with an assigned application. A change to any of them moves this version.
ANSWER_PAGES = "invitations"
versions.watch(
    ANSWER_PAGES,
    Invitation.__table__,
    Customer.__table__,
    Market.__table__,
    Venue.__table__,
    Application.__table__,
    Vendor.__table__,
)

PREVIEW_TOKEN = "preview"  # links in a preview lead nowhere
# The visitor pass a preview shows, the size of a real one; no invitation
# can have it ("L" is not in the pass alphabet), so it checks no one in.
PREVIEW_PASS_CODE = "SAMPLE"

ANSWER_LABELS = {
    InvitationStatus.INVITED: _l("No answer yet"),
    InvitationStatus.ACCEPTED: _l("Coming"),
    InvitationStatus.DECLINED: _l("Not coming"),
    InvitationStatus.TENTATIVE: _l("Maybe"),
}
# The RSVP form's values and the answers they give.
CHOICES = {
    "accept": InvitationStatus.ACCEPTED,
    "decline": InvitationStatus.DECLINED,
    "tentative": InvitationStatus.TENTATIVE,
}
THANKS = {
    "accept": _l("Thank you! We look forward to seeing you at the market."),
    "decline": _l("Thank you for letting us know."),
    "tentative": _l("Thank you. You can change your answer here until the market day."),
}
SKIP_REASONS = {
    "unknown": _l("no longer in the customer list"),
    "already_invited": _l("already invited to this market"),
    "control": _l("held back as this market's control group"),
    "no_consent": _l("no marketing consent"),
    "unsubscribed": _l("unsubscribed"),
    "suppressed": _l("on the suppression list"),
}
MAIL_LABELS = {
    OutboxStatus.QUEUED: _l("Queued"),
    OutboxStatus.SENDING: _l("Sending"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Failed"),
    None: _l("Withdrawn"),
}


def _texts(labels: dict) -> dict:
    """The labels translated once for the request (market.core.i18n.label_text):
    printed as lazy strings, each of the page's 50 invited rows asked the
    catalogue again for its answer and its mail's state."""
    return {key: label_text(label) for key, label in labels.items()}


def register_template_helpers(app: Flask) -> None:
    """The filters the invitation pages use."""
    app.add_template_filter(mask_email, "mask_email")


def _private(response: Response) -> Response:
    """Pages behind a customer's token: never cached, never indexed, and the
    token never leaves in a Referer to another site. `same-origin`, not
    `no-referrer`: the answer form's POST must carry a Referer of our own
    origin, or Flask-WTF's strict check refuses it over HTTPS; on our own
    origin the Referer only tells us the token we issued."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# -- staff ------------------------------------------------------------------------


def _ranking_form() -> RankingForm:
    """From the query string; on the first visit, the defaults (as if sent)."""
    if "top_n" in request.args:
        return RankingForm(formdata=request.args)
    defaults = RankingForm(formdata=None)
    return RankingForm(
        formdata=MultiDict(
            {
                name: str(field.data)
                for name, field in defaults._fields.items()
                if field.data is not None and field.data is not False
            }
        )
    )


def _customer(customer_id: int | None) -> Customer | None:
    return db.session.get(Customer, customer_id) if customer_id is not None else None


def _preview(market: Market, customer_id: int | None):
    """The message this customer would get, built exactly as `invite` builds
    it (only the token in its links is a placeholder)."""
    customer = _customer(customer_id)
    if customer is None:
        return None
    message = invitation_message(
        customer=customer,
        market=market,
        token=PREVIEW_TOKEN,
        vendors=attending_vendors(market),
        kind=MailKind.INVITE,
        sequence=market.sequence,
        stamp=utcnow(),
        pass_code=PREVIEW_PASS_CODE,
    )
    return customer, parse(bytes(message))


def _preview_parts(market: Market, customer_id: int | None):
    """For the page: the customer and what it shows of their mail (the HTML
    part comes from `preview`, in an iframe)."""
    customer = _customer(customer_id)
    if customer is None:
        return None
    parts = preview_parts(
        customer=customer,
        market=market,
        token=PREVIEW_TOKEN,
        vendors=attending_vendors(market),
        pass_code=PREVIEW_PASS_CODE,
    )
    return customer, parts


def _snapshot(market: Market, options: RankingOptions, now) -> snapshots.Snapshot | None:
    """The stored ranking; computed here only the first time these options
    are asked for (afterwards only the "calculate again" button ranks)."""
    found = snapshots.latest(market, options)
    if found is None:
        with saving():
            snapshots.compute(market, options, current_user, now)
        found = snapshots.latest(market, options)
    return found


@bp.route("/staff/markets/<int:market_id>/invitations")
@staff_required
@signed_in_page()
def index(market_id: int):
    """Kept per data version and day (market.core.signed_in_pages). The send
    bar goes when the market starts, with no data changing, so the kept page
    ends there. The sending hours (`not_before`) are not printed here, only
    on the confirmation (a POST, never kept). A new clock rule here must end
    the kept page too (pagecache.valid_until)."""
    market = db.get_or_404(Market, market_id)
    now = utcnow()
    pagecache.valid_until(sending.invitations_close_at(market, now))
    form = _ranking_form()
    valid = form.validate()
    snapshot = _snapshot(market, form.options(), now) if valid else None
    ranked = snapshot.rows if snapshot else []
    ranked_ids = [row.customer_id for row in ranked]
    invited_ids = queries.invited_among(market, ranked_ids)
    held_back_ids = queries.held_back_among(market, ranked_ids)
    # parse_id: a number no customer id can be (?preview=2147483648) shows the first.
    preview_id = parse_id(request.args.get("preview")) or (ranked_ids[0] if ranked_ids else None)
    preview = _preview_parts(market, preview_id)
    counts = queries.invitation_counts([market.id])[market.id]
    page = paginate_rows(
        queries.invitations_query(market), counts.invited, current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "invitations/index.html",
        market=market,
        form=form,
        snapshot=snapshot,
        ranked=ranked,
        invited_ids=invited_ids,
        held_back_ids=held_back_ids,
        send_form=SendForm(formdata=None),
        sends=queries.sends(market),
        counts=counts,
        preview=preview,
        page=page,
        answer_labels=_texts(ANSWER_LABELS),
        source_labels=_texts(SOURCE_LABELS),
        mail_labels=_texts(MAIL_LABELS),
        ranking_args=form.query_args() if valid else {},
        can_invite=sending.takes_invitations(market, now),
        not_before=next_send_time(now, sending.send_window()),
        now=now,
    )


@bp.route("/staff/markets/<int:market_id>/invitations/ranking", methods=["POST"])
@staff_required
def recalculate(market_id: int):
    """Ranks again with the options sent (the page's current ones) and
    replaces the stored ranking; back to the page with those options."""
    market = db.get_or_404(Market, market_id)
    form = RankingForm(formdata=request.form)
    if not form.validate():
        flash(
            _(
                "The ranking was not calculated. Correct the options: %(errors)s",
                errors=_errors(form),
            ),
            "error",
        )
        # Back with the options as sent, but none holding a control
        # character: a NUL in the address would make the page a 400.
        sent = {
            name: request.form[name]
            for name in form._fields
            if name in request.form and not has_control_characters(request.form[name])
        }
        return redirect(url_for("invitations.index", market_id=market.id, **sent), code=303)
    with saving():
        fresh = snapshots.compute(market, form.options(), current_user, utcnow())
    if fresh:
        flash(_("The ranking was calculated again."), "success")
    else:
        flash(
            _("Someone else calculated this ranking at the same moment; theirs is shown."),
            "info",
        )
    return redirect(
        url_for("invitations.index", market_id=market.id, **form.query_args()), code=303
    )


def _errors(form: RankingForm) -> str:
    # str(): a validator's message is a lazy string, which join() refuses.
    return "; ".join(
        f"{form[name].label.text}: {' '.join(map(str, messages))}"
        for name, messages in form.errors.items()
    )


@bp.route("/staff/markets/<int:market_id>/invitations/preview/<int:customer_id>.html")
@staff_required
def preview(market_id: int, customer_id: int):
    """The HTML part alone, for a sandboxed iframe (like the outbox's), its
    visitor pass written in as a data: URI (a cid: link shows only in mail)."""
    market = db.get_or_404(Market, market_id)
    found = _preview(market, customer_id) or abort(404)
    message = found[1]
    html = with_images(message, message.get_body(preferencelist=("html",)).get_content())
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/staff/markets/<int:market_id>/invitations.csv", defaults={"file_format": "csv"})
@bp.route("/staff/markets/<int:market_id>/invitations.xlsx", defaults={"file_format": "xlsx"})
@staff_required
def export(market_id: int, file_format: str):
    """The market's invitations with answers and their source, to download."""
    market = db.get_or_404(Market, market_id)
    table = exports.invitations_table(market, ANSWER_LABELS, SOURCE_LABELS, MAIL_LABELS)
    return send_table(table, file_format, f"invitations-{market.market_date}-{market.id}")


def _chosen_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("customer_id"):
        number = parse_id(value)  # None also for a number no id can be
        if number is None:
            abort(400)
        ids.append(number)
    return list(dict.fromkeys(ids))


@bp.route("/staff/markets/<int:market_id>/invitations/send", methods=["POST"])
@staff_required
def send(market_id: int):
    """First POST: the confirmation page with who gets a mail and when.
    Second POST (confirmed): invites them."""
    market = db.get_or_404(Market, market_id)
    form = SendForm()
    back = redirect(url_for("invitations.index", market_id=market.id))
    # A wrong control share is shown on the confirmation page; anything
    # else wrong (the CSRF token) is a bad request.
    if not form.validate_on_submit() and set(form.errors) != {"control_percent"}:
        abort(400)
    ids = _chosen_ids()
    if not ids:
        flash(_("Choose at least one customer to invite."), "warning")
        return back
    if len(ids) > sending.MAX_BATCH:
        flash(_("At most %(max)d customers at once.", max=sending.MAX_BATCH), "error")
        return back
    now = utcnow()
    if not sending.takes_invitations(market, now):
        flash(_("Invitations can only be sent for an upcoming market."), "error")
        return back
    ranking = _sent_ranking()
    if form.confirmed.data != "yes" or form.control_percent.errors:
        eligible, skipped = sending.classify(market, ids)
        percent = 0 if form.control_percent.errors else form.control_percent.data
        return render_template(
            "invitations/confirm.html",
            market=market,
            form=form,
            eligible=eligible,
            held_back=sending.control_size(len(eligible), percent),
            skipped=_skipped_text(skipped),
            ranking_args=ranking.query_args() if ranking else {},
            not_before=next_send_time(now, sending.send_window()),
            now=now,
        )
    with saving() as saved:  # refused: someone else invited some of them meanwhile
        result = sending.invite(
            market,
            ids,
            current_user,
            now,
            control_percent=form.control_percent.data,
            options=ranking.options() if ranking else None,
        )
    if not saved:
        return back
    flash(_("Invitations queued: %(count)d.", count=result.invited), "success")
    if result.held_back:
        flash(
            _("Held back as the control group: %(count)d.", count=len(result.held_back)),
            "info",
        )
    if result.skipped_count:
        flash(_("Not invited: %(reasons)s", reasons=_skipped_text(result.skipped)), "info")
    return back


def _sent_ranking() -> RankingForm | None:
    """The ranking options the chosen customers were shown with (hidden
    fields of the send form), or None if they did not come (or are not
    valid options: the send is then recorded without them)."""
    if "top_n" not in request.form:
        return None
    ranking = RankingForm(formdata=request.form)
    return ranking if ranking.validate() else None


def _skipped_text(skipped: dict[str, list[int]]) -> str:
    return ", ".join(
        f"{SKIP_REASONS.get(reason, reason)}: {len(ids)}" for reason, ids in skipped.items()
    )


# -- customers (no login) --------------------------------------------------------------


@bp.route("/i/<token>", methods=["GET", "POST"])
@pagecache.whole_page(ANSWER_PAGES, public=False)
def rsvp(token: str):
    found = answers.get_invitation(token) or abort(404)
    invitation, customer, market = found
    now = utcnow()
    form = AnswerForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        with saving(category="warning") as saved:  # refused: the market is over
            answers.answer(token, CHOICES[form.answer.data], now)
        if saved:
            flash(str(THANKS[form.answer.data]), "success")
        return _private(redirect(url_for("invitations.rsvp", token=token), code=303))
    suggested = request.args.get("answer")
    pagecache.valid_until(_changes_by_the_clock(market, now))
    response = Response(
        render_template(
            "invitations/rsvp.html",
            invitation=invitation,
            customer=customer,
            market=market,
            form=form,
            vendors=attending_vendors(market),
            can_answer=answers.can_answer(market, now),
            suggested=suggested if suggested in CHOICES else None,
            visitor_pass=_visitor_pass(invitation, customer, market, now),
        )
    )
    return _private(response)


def _changes_by_the_clock(market: Market, now: datetime) -> datetime | None:
    """When the answer page changes with no change of the data: the answer
    buttons go when the market is over, the pass after its day (Korea's)."""
    day_after = datetime.combine(market.market_date + timedelta(days=1), time(0), SEOUL)
    return min((moment for moment in (ends_at(market), day_after) if moment > now), default=None)


def _visitor_pass(invitation, customer: Customer, market: Market, now):
    """The pass's QR code as inline SVG, where the page shows one: made once
    per address and language (a pass's code never changes)."""
    if not passes.shows_pass(market, customer, now):
        return None
    url = passes.check_in_url(market.id, invitation.pass_code)
    return cached("visitor-pass", url, lambda: passes.qr_svg(url, title=_("Visitor pass QR code")))


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """GET shows a button; POST unsubscribes: from that button, or the
    one-click POST (body ``List-Unsubscribe=One-Click``) of a mail provider."""
    found = answers.get_invitation(token) or abort(404)
    _invitation, customer, _market = found
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == ONE_CLICK.partition("=")[2]
        with saving():
            answers.unsubscribe(customer, utcnow(), source="one-click" if one_click else "page")
        current_app.logger.info("invitations: a customer unsubscribed (%s)", customer.id)
        return _private(
            Response(
                render_template("invitations/unsubscribed.html", customer=customer), status=200
            )
        )
    return _private(Response(render_template("invitations/unsubscribe.html", customer=customer)))
