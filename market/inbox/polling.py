"""Reading the center's mailbox: each message handled once, none lost.

A pass (`poll_once`) reads the folder's UIDVALIDITY and the UIDs above the
last one seen. For each message it inserts the message's record, which is
the claim: the unique (folder, UIDVALIDITY, UID) lets one poller have it,
the unique Message-ID lets one copy of it take effect. The record, what the
handler changed and the folder's last UID are committed together, so a
crash before the commit leaves the message to the next pass and a crash
after it leaves nothing to redo. Only then is the message moved to the
Processed folder (replies and bounces) or flagged where it is (the rest);
a move that did not happen is done on the next pass (`filing` pending).
Nothing is ever deleted.

If the folder's UIDVALIDITY changes (the server rebuilt its index), the
log says so and reading starts again from the beginning of the folder: the
Message-IDs already recorded keep those messages from taking effect twice."""

import logging
import os
import socket
import time
from datetime import UTC, timedelta
from email.utils import parseaddr, parsedate_to_datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from market.extensions import db
from market.inbox import handling
from market.inbox.mailbox import Mailbox, Settings
from market.inbox.models import Filing, InboxFolder, InboxMessage
from market.inbox.outcome import Handled, MessageKind, Outcome
from market.timeutil import utcnow

log = logging.getLogger("market.inbox")

# Kinds that were acted on go to the Processed folder; the rest stay where
# they are, marked seen, for a person to read (and flagged if unreadable).
MOVED_KINDS = {MessageKind.CALENDAR_REPLY, MessageKind.BOUNCE}
# A handled message not yet filed is left this long to the poller handling it.
FILING_GRACE = timedelta(minutes=2)
# SQLite lets one writer at a time; another poller waits its turn.
LOCKED_RETRIES = 5


def configured() -> bool:
    return bool(current_app.config.get("IMAP_HOST"))


def poll_once() -> int:
    """One pass over the configured folder; how many messages this poller
    handled (0 when no mailbox is configured)."""
    if not configured():
        return 0
    settings = Settings.from_config(current_app.config)
    with Mailbox(settings) as mailbox:
        return Poller(mailbox, settings).run()


class Poller:
    def __init__(self, mailbox: Mailbox, settings: Settings):
        self.mailbox = mailbox
        self.folder = settings.folder
        self.processed_folder = settings.processed_folder
        self.who = f"{socket.gethostname()}:{os.getpid()}"[:100]
        self._can_move: bool | None = None

    def run(self) -> int:
        uidvalidity = self.mailbox.uidvalidity()
        last_uid = self._start(uidvalidity)
        self._file_pending(uidvalidity)
        handled = 0
        for uid in self.mailbox.uids_after(last_uid):
            raw = self.mailbox.fetch(uid)
            if raw is None:  # moved away by another poller meanwhile
                continue
            record = self._record(uidvalidity, uid, raw)
            if record is not None:
                handled += 1
                self._file(record)
        return handled

    # --- where reading stopped -----------------------------------------------------

    def _start(self, uidvalidity: int) -> int:
        state = self._folder_state()
        if state.uidvalidity is not None and state.uidvalidity != uidvalidity:
            log.warning(
                "mailbox folder %s: UIDVALIDITY changed from %s to %s; reading the folder "
                "again from its start (messages already handled are known by Message-ID)",
                self.folder,
                state.uidvalidity,
                uidvalidity,
            )
            state.last_uid = 0
        state.uidvalidity = uidvalidity
        state.checked_at = utcnow()
        last_uid = state.last_uid
        db.session.commit()
        return last_uid

    def _folder_state(self) -> InboxFolder:
        query = select(InboxFolder).where(InboxFolder.name == self.folder)
        state = db.session.scalars(query).one_or_none()
        if state is None:
            db.session.add(InboxFolder(name=self.folder, last_uid=0))
            try:
                db.session.commit()
            except IntegrityError:  # another poller made it first
                db.session.rollback()
            state = db.session.scalars(query).one()
        return state

    def _advance(self, uidvalidity: int, uid: int) -> None:
        db.session.execute(
            update(InboxFolder)
            .where(
                InboxFolder.name == self.folder,
                InboxFolder.uidvalidity == uidvalidity,
                InboxFolder.last_uid < uid,
            )
            .values(last_uid=uid)
        )

    # --- one message ---------------------------------------------------------------

    def _record(self, uidvalidity: int, uid: int, raw: bytes) -> InboxMessage | None:
        for attempt in range(LOCKED_RETRIES):
            try:
                return self._record_once(uidvalidity, uid, raw)
            except OperationalError as error:
                db.session.rollback()
                if "locked" not in str(error).lower() or attempt == LOCKED_RETRIES - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        return None

    def _record_once(self, uidvalidity: int, uid: int, raw: bytes) -> InboxMessage | None:
        headers = _headers(raw)
        record = InboxMessage(
            folder=self.folder,
            uidvalidity=uidvalidity,
            uid=uid,
            kind=MessageKind.OTHER,  # until handled, in this same transaction
            outcome=Outcome.IGNORED,
            handled_by=self.who,
            filing=Filing.PENDING,
            **headers,
        )
        db.session.add(record)
        try:
            db.session.flush()  # the claim
        except IntegrityError:
            db.session.rollback()
            return self._duplicate(uidvalidity, uid, headers)
        try:
            with db.session.begin_nested():
                handled = handling.handle(raw, record)
        except Exception:  # a handler's bug must not stop the poll nor retry forever
            log.exception("mailbox message %s/%s: handling failed", self.folder, uid)
            handled = Handled(
                MessageKind.UNPARSEABLE,
                Outcome.FAILED,
                _("The message could not be handled; it stays in the mailbox, flagged."),
            )
        record.kind = handled.kind
        record.outcome = handled.outcome
        record.reason = handled.reason
        record.details = handled.details or None
        record.handled_at = utcnow()
        self._advance(uidvalidity, uid)
        db.session.commit()
        log.info("mailbox message %s/%s: %s, %s", self.folder, uid, handled.kind, handled.outcome)
        return record

    def _duplicate(self, uidvalidity: int, uid: int, headers: dict) -> InboxMessage | None:
        """The claim failed: this place is another poller's (skip it), or
        the Message-ID was handled before (record the copy, apply nothing)."""
        place = select(InboxMessage.id).where(
            InboxMessage.folder == self.folder,
            InboxMessage.uidvalidity == uidvalidity,
            InboxMessage.uid == uid,
        )
        if db.session.scalar(place) is not None:
            db.session.rollback()
            return None
        original = db.session.scalars(
            select(InboxMessage).where(InboxMessage.message_id == headers["message_id"])
        ).one_or_none()
        if original is None:  # neither: let the next pass try again
            db.session.rollback()
            return None
        record = InboxMessage(
            folder=self.folder,
            uidvalidity=uidvalidity,
            uid=uid,
            duplicate_of_id=original.id,
            kind=original.kind,
            outcome=Outcome.IGNORED,
            reason=_("A copy of a message already read; nothing was changed again."),
            handled_by=self.who,
            filing=Filing.PENDING,
            **{**headers, "message_id": None},
        )
        db.session.add(record)
        try:
            self._advance(uidvalidity, uid)
            db.session.commit()
        except IntegrityError:  # another poller recorded this copy meanwhile
            db.session.rollback()
            return None
        log.info("mailbox message %s/%s: a copy of message %s", self.folder, uid, original.id)
        return record

    # --- in the mailbox --------------------------------------------------------------

    def _file_pending(self, uidvalidity: int) -> None:
        """Messages handled but never filed: the poller died in between.
        Only those older than FILING_GRACE, so as not to race the poller
        that is about to file them (two IMAP MOVEs of one message at once
        can leave two copies in Processed)."""
        pending = db.session.scalars(
            select(InboxMessage).where(
                InboxMessage.folder == self.folder,
                InboxMessage.uidvalidity == uidvalidity,
                InboxMessage.filing == Filing.PENDING,
                InboxMessage.handled_at < utcnow() - FILING_GRACE,
            )
        ).all()
        for record in pending:
            self._file(record)

    def _file(self, record: InboxMessage) -> None:
        """Move a reply or bounce to Processed; mark anything else seen
        where it is (and flagged, when it could not be read)."""
        uid = int(record.uid)
        if record.kind in MOVED_KINDS and record.outcome is not Outcome.FAILED and self._moves():
            self.mailbox.move(uid, self.processed_folder)
            filing = Filing.MOVED
        else:
            flags = [r"\Seen"]
            if record.outcome is Outcome.FAILED or record.kind in MOVED_KINDS:
                flags.append(r"\Flagged")
            self.mailbox.add_flags(uid, *flags)
            filing = Filing.FLAGGED
        record.filing = filing
        db.session.commit()

    def _moves(self) -> bool:
        """Moving needs the server's MOVE (without it imap-tools would copy
        and expunge, which can remove other deleted mail) and the Processed
        folder, made when missing."""
        if self._can_move is None:
            self._can_move = self.mailbox.can_move()
            if self._can_move:
                try:
                    self.mailbox.ensure_folder(self.processed_folder)
                except Exception:
                    log.warning(
                        "mailbox folder %s cannot be made; handled mail is flagged instead",
                        self.processed_folder,
                    )
                    self._can_move = False
            else:
                log.warning("the mail server cannot MOVE; handled mail is flagged instead")
        return self._can_move


def _headers(raw: bytes) -> dict:
    """What the record keeps of a message: read leniently, as even garbage
    must be recorded (and any of these may be missing or broken)."""
    values = {"message_id": None, "from_address": None, "subject": None, "sent_at": None}
    try:
        message = handling.parse(raw)
    except Exception:
        return values
    for name, key, length in (
        ("Message-ID", "message_id", 500),
        ("Subject", "subject", 500),
    ):
        try:
            value = message.get(name)
            values[key] = " ".join(str(value).split())[:length] if value else None
        except Exception:
            pass
    try:
        address = parseaddr(str(message.get("From", "")))[1]
        values["from_address"] = address[:320] or None
    except Exception:
        pass
    try:
        when = parsedate_to_datetime(str(message.get("Date"))).astimezone(UTC)
        values["sent_at"] = when if 1970 < when.year < 2200 else None
    except Exception:
        pass
    return values
