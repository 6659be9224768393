"""The center's mailbox over IMAP, as the poller needs it.

imap-tools does the protocol (UID SEARCH/FETCH/MOVE/STORE over imaplib,
with TLS or STARTTLS); this wrapper adds what the poller must be sure of:
messages are fetched with BODY.PEEK (reading marks nothing), by UID, as
their raw bytes; and nothing here ever deletes. imap-tools' own `flag()`
and `move()` without the server's MOVE expunge the folder, which would
remove mail someone else marked deleted, so both are done with plain UID
STORE and UID MOVE, and a server without MOVE gets a flag instead."""

import contextlib
import logging
import ssl
from dataclasses import dataclass

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import UnexpectedCommandStatusError
from imap_tools.message import MailMessage
from imap_tools.utils import check_command_status, encode_folder

log = logging.getLogger("market.inbox")


class MailboxError(RuntimeError):
    """The server could not be reached, or refused the login."""


class CommandRefused(UnexpectedCommandStatusError):
    """The server answered NO or BAD to a command."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    security: str = "imaps"
    processed_folder: str = "Processed"
    timeout: float = 30
    ca_file: str | None = None

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(
            host=config["IMAP_HOST"],
            port=int(
                config.get("IMAP_PORT") or (993 if config["IMAP_SECURITY"] == "imaps" else 143)
            ),
            user=config.get("IMAP_USER") or "",
            password=config.get("IMAP_PASSWORD") or "",
            folder=config.get("IMAP_FOLDER") or "INBOX",
            security=config.get("IMAP_SECURITY") or "imaps",
            processed_folder=config.get("IMAP_PROCESSED_FOLDER") or "Processed",
            timeout=float(config.get("IMAP_TIMEOUT") or 30),
            ca_file=config.get("IMAP_CA_FILE") or None,
        )


class _RawMessage(MailMessage):
    """imap-tools' message, keeping the bytes as fetched (its `obj` is a
    compat32 parse we do not use)."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw = self._get_message_data_parts(fetch_data)[0]


class Mailbox:
    """One logged-in connection with one folder selected; use with `with`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._box = None

    def __enter__(self) -> "Mailbox":
        s = self.settings
        try:
            if s.security == "imaps":
                box = MailBox(s.host, s.port, timeout=s.timeout, ssl_context=self._tls())
            elif s.security == "starttls":
                box = MailBoxStartTls(s.host, s.port, timeout=s.timeout, ssl_context=self._tls())
            else:
                box = MailBoxUnencrypted(s.host, s.port, timeout=s.timeout)
            box.email_message_class = _RawMessage
            box.login(s.user, s.password, initial_folder=s.folder)
        except Exception as error:
            raise MailboxError(f"{s.host}:{s.port}: {error}") from error
        self._box = box
        return self

    def _tls(self) -> ssl.SSLContext:
        """Certificates checked against the system's authorities (or
        IMAP_CA_FILE's), host name included: the password goes over it."""
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):  # the connection may be gone; nothing to keep
            self._box.logout()

    @property
    def client(self):
        return self._box.client

    def uidvalidity(self) -> int:
        return int(self._box.folder.status(self.settings.folder, ["UIDVALIDITY"])["UIDVALIDITY"])

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, oldest first. `UID n:*` always matches the
        newest message even when its UID is below n, hence the filter."""
        found = self._box.uids(f"UID {last_uid + 1}:*")
        return sorted(uid for uid in map(int, found) if uid > last_uid)

    def fetch(self, uid: int) -> bytes | None:
        """The message's bytes, not marking it seen; None when it is gone
        (another poller moved it)."""
        for message in self._box.fetch(uid_list=[str(uid)], mark_seen=False):
            if message.uid and int(message.uid) == uid:
                return message.raw
        return None

    def can_move(self) -> bool:
        """Asked after login: servers name MOVE only to a logged-in user,
        and imaplib keeps the list it got before."""
        result = self.client.capability()
        check_command_status(result, CommandRefused)
        words = b" ".join(part for part in result[1] if isinstance(part, bytes)).upper().split()
        return b"MOVE" in words

    def ensure_folder(self, name: str) -> None:
        if not self._box.folder.exists(name):
            try:
                self._box.folder.create(name)
            except Exception:
                if not self._box.folder.exists(name):  # another poller made it meanwhile
                    raise

    def move(self, uid: int, destination: str) -> None:
        result = self.client.uid("MOVE", str(uid), encode_folder(destination))
        check_command_status(result, CommandRefused)

    def add_flags(self, uid: int, *flags: str) -> None:
        result = self.client.uid("STORE", str(uid), "+FLAGS", f"({' '.join(flags)})")
        check_command_status(result, CommandRefused)
