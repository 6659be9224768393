"""A real IMAP server for the mailbox tests: Debian's Dovecot (packages
dovecot-imapd and dovecot-lmtpd), started on free loopback ports with a
throwaway configuration, one static user and a Maildir in a temporary
folder, and stopped at the end of the run. Mail reaches it as a real mail
server delivers it: through LMTP (or by IMAP APPEND).

Use it by importing the fixtures into a test module:

    from tests.dovecot_fixtures import dovecot, mailbox_config  # noqa: F401

Without Dovecot the tests that use it are skipped, saying why; with CI=true
they fail instead (CI must not go green having tested less)."""

import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

from tests import servers
from tests.servers import free_port

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
DOVECOT = "/usr/sbin/dovecot"
USER = "center@market.test"
PASSWORD = "mailbox-test-password"


def find_dovecot() -> str | None:
    """Where scripts/tools.sh looks (find_dovecot): the server and the IMAP
    and LMTP services it starts, which are separate packages."""
    if os.access(DOVECOT, os.X_OK) and all(
        os.access(f"/usr/lib/dovecot/{service}", os.X_OK) for service in ("imap", "lmtp")
    ):
        return DOVECOT
    return None


def dovecot_version() -> str | None:
    """ "Dovecot 2.3.19" for the run's summary, None without Dovecot."""
    binary = find_dovecot()
    if binary is None:
        return None
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    # "2.3.19.1 (9b53102964)": the release is the first three numbers.
    release = ".".join(out.split()[0].split(".")[:3]) if out.strip() else "?"
    return f"Dovecot {release}"


def _owner() -> tuple[str, int, int, str]:
    """Who Dovecot's processes and mail run as. As root (a container, CI)
    Dovecot refuses mail owned by root, so the mail belongs to `nobody`;
    otherwise to whoever runs the tests."""
    if os.geteuid() == 0:
        import pwd

        for name in ("dovecot", "nobody"):
            try:
                internal = pwd.getpwnam(name).pw_name
                break
            except KeyError:
                continue
        nobody = pwd.getpwnam("nobody")
        login = "dovenull" if _user_exists("dovenull") else internal
        return internal, nobody.pw_uid, nobody.pw_gid, login
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, os.geteuid(), os.getegid(), me


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:{root}/mail/%n
mail_uid = {uid}
mail_gid = {gid}
lmtp_save_to_detail_mailbox = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


class DovecotServer:
    host = "127.0.0.1"
    user = USER
    password = PASSWORD

    def __init__(self, binary: str):
        # Not pytest's tmp_path: it is readable by its owner only, and
        # Dovecot's own processes run as other users.
        self.root = Path(tempfile.mkdtemp(prefix="market-dovecot-"))
        self.root.chmod(0o755)
        internal, uid, gid, login = _owner()
        self.uid, self.gid = uid, gid
        self.imap_port = free_port()  # plain, or STARTTLS
        self.imaps_port = free_port()
        self.lmtp_port = free_port()
        self._certificates()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        (self.root / "passwd").chmod(0o644)
        self.mail = self.root / "mail"
        self.mail.mkdir()
        os.chown(self.mail, uid, gid)
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            CONFIG.format(
                root=self.root,
                internal=internal,
                login=login,
                uid=uid,
                gid=gid,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
                lmtp_port=self.lmtp_port,
            )
        )
        self.binary = binary
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_until_ready()

    def _certificates(self) -> None:
        """A throwaway CA (trustme) and a certificate for localhost and
        127.0.0.1; `ca_file` is what a client must trust."""
        import trustme

        authority = trustme.CA()
        server = authority.issue_cert("localhost", "127.0.0.1")
        server.private_key_pem.write_to_path(str(self.root / "server.key"))
        server.cert_chain_pems[0].write_to_path(str(self.root / "server.pem"))
        self.ca_file = str(self.root / "ca.pem")
        authority.cert_pem.write_to_path(self.ca_file)

    def _wait_until_ready(self) -> None:
        for _ in range(200):
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection((self.host, self.imap_port), timeout=1) as sock:
                    if sock.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        errors = self.process.stderr.read().decode() if self.process.poll() is not None else ""
        self.stop()
        log = self.log()
        pytest.fail(f"dovecot did not start on port {self.imap_port}:\n{errors}\n{log}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else "(no log)"

    def stop(self) -> None:
        servers.stop(self.process)
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- what tests do with it ---------------------------------------------------

    def mailbox(self, folder: str = "INBOX") -> MailBoxUnencrypted:
        return MailBoxUnencrypted(self.host, self.imap_port, timeout=10).login(
            self.user, self.password, initial_folder=folder
        )

    def deliver(self, raw: bytes, sender: str = "") -> None:
        """Deliver as a mail server does, over LMTP (RFC 2033)."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(sender or "<>", [self.user], raw)

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.mailbox(folder) as box:
            box.append(raw, folder)

    def folder_uids(self, folder: str) -> list[int]:
        with self.mailbox() as box:
            if not box.folder.exists(folder):
                return []
            box.folder.set(folder)
            return [int(uid) for uid in box.uids("ALL")]

    def folder_flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        with self.mailbox(folder) as box:
            return {
                int(message.uid): set(message.flags)
                for message in box.fetch("ALL", mark_seen=False, headers_only=True)
            }

    def renumber(self) -> None:
        """What a server does when its index is lost or rebuilt: new UIDs
        and a new UIDVALIDITY for the same mail (Dovecot's Maildir keeps
        them in dovecot-uidlist and its index files)."""
        home = self.mail / USER.split("@")[0]
        for path in home.rglob("dovecot*"):
            if path.is_file() and (path.name == "dovecot-uidlist" or ".index" in path.name):
                path.unlink()

    def empty(self) -> None:
        """A fresh mailbox for the next test: every folder removed."""
        with self.mailbox() as box:
            for info in box.folder.list():
                if info.name != "INBOX":
                    box.folder.delete(info.name)
            box.folder.set("INBOX")
            uids = box.uids("ALL")
            if uids:
                box.delete(uids)  # test mail only; the app never deletes


@pytest.fixture(scope="session")
def dovecot():
    """One Dovecot for the whole run."""
    binary = find_dovecot()
    if binary is None:
        reason = "Dovecot is not installed (Debian packages dovecot-imapd dovecot-lmtpd)"
        if IN_CI:
            pytest.fail(f"CI=true, but {reason}", pytrace=False)
        pytest.skip(f"{reason}: the mailbox tests were skipped")
    server = DovecotServer(binary)
    yield server
    server.stop()


@pytest.fixture
def mailbox_config(dovecot, app_config):
    """The app reads the test mailbox, emptied for this test."""
    dovecot.empty()
    app_config.update(
        IMAP_HOST=dovecot.host,
        IMAP_PORT=dovecot.imap_port,
        IMAP_USER=dovecot.user,
        IMAP_PASSWORD=dovecot.password,
        IMAP_SECURITY="plain",
        IMAP_FOLDER="INBOX",
    )
    yield app_config
    dovecot.empty()
