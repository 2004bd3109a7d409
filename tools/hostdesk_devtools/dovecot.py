"""A Dovecot of our own, for the tests and benchmarks of mailbox polling: IMAP and POP3 on free ports of 127.0.0.1,
plaintext logins (no TLS: loopback only), users in a passwd-file, Maildirs in a temporary folder.

Dovecot is Debian's (``dovecot-imapd``, ``dovecot-pop3d``); when it is absent it is installed with ``apt-get``
(as root, or through ``sudo -n``), as the test setup finds or starts PostgreSQL and NATS. Run as root, Dovecot's
own unprivileged users (``dovecot``, ``dovenull``, made by the package) run its processes and own the mail; run as
anyone else, that user does.
"""

from __future__ import annotations

import getpass
import grp
import imaplib
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from hostdesk_devtools.servers import free_port, wait_for_port

log = logging.getLogger(__name__)

PACKAGES = ("dovecot-imapd", "dovecot-pop3d")
BINARY = "/usr/sbin/dovecot"

CONFIG = """\
base_dir = {root}/run
instance_name = hostdesk-{imap_port}
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


def dovecot_binary() -> str:
    """Dovecot's binary, installed first when it is absent."""
    found = shutil.which("dovecot") or (BINARY if Path(BINARY).exists() else None)
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log.info("installing %s", " ".join(PACKAGES))
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=environment, capture_output=True)
        subprocess.run(
            [*sudo, "apt-get", "install", "-y", "-qq", *PACKAGES], check=True, env=environment, capture_output=True
        )
    except (OSError, subprocess.CalledProcessError) as error:
        output = getattr(error, "stderr", b"") or b""
        raise RuntimeError(
            f"Dovecot is not installed and could not be ({error}): apt-get install {' '.join(PACKAGES)}\n"
            + output.decode(errors="replace")
        ) from error
    return shutil.which("dovecot") or BINARY


class OwnDovecot:
    def __init__(self, root: Path | None = None) -> None:
        self.binary = dovecot_binary()
        self.root = Path(tempfile.mkdtemp(prefix="hostdesk-dovecot-", dir=root))
        self.root.chmod(0o755)  # Dovecot's unprivileged processes reach the mail and the users through it
        self.imap_port = free_port()
        self.pop3_port = free_port()
        self.config_file = self.root / "dovecot.conf"
        self.users_dir = self.root / "users"
        self.process: subprocess.Popen[bytes] | None = None
        self._users: dict[str, str] = {}
        if os.geteuid() == 0:
            self._internal, self._login, self._mail = "dovecot", "dovenull", "dovecot"
        else:
            self._internal = self._login = self._mail = getpass.getuser()

    def add_user(self, username: str, password: str) -> None:
        """A mailbox ``username`` (an address, as a rule) logging in with ``password``; effective at once (the
        passwd-file is read at each login)."""
        self._users[username] = password
        # One file a user: Dovecot reads a file it has not read before at once, where it would notice a change to a
        # file it holds only a second later. Written whole, then renamed into place.
        self.users_dir.mkdir(exist_ok=True)
        self.users_dir.chmod(0o755)
        written = self.users_dir / f".{username}.new"
        written.write_text(f"{username}:{{PLAIN}}{password}\n", encoding="utf-8")
        written.chmod(0o644)
        written.replace(self.users_dir / username)

    def password_of(self, username: str) -> str:
        return self._users[username]

    def start(self) -> OwnDovecot:
        (self.root / "run").mkdir(exist_ok=True)
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(mail, pwd.getpwnam(self._mail).pw_uid, grp.getgrnam(self._mail).gr_gid)
        self.config_file.write_text(
            CONFIG.format(
                root=self.root,
                imap_port=self.imap_port,
                pop3_port=self.pop3_port,
                internal_user=self._internal,
                internal_group=grp.getgrgid(pwd.getpwnam(self._internal).pw_gid).gr_name,
                login_user=self._login,
                mail_user=self._mail,
                mail_group=grp.getgrgid(pwd.getpwnam(self._mail).pw_gid).gr_name,
            ),
            encoding="utf-8",
        )
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_file)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port("127.0.0.1", self.imap_port)
            wait_for_port("127.0.0.1", self.pop3_port)
        except TimeoutError as error:
            self.stop()
            log_text = (self.root / "dovecot.log").read_text(errors="replace")[-2000:] if self.log_exists() else ""
            raise RuntimeError(f"Dovecot did not start: {log_text}") from error
        log.info("started dovecot: IMAP on %d, POP3 on %d (%s)", self.imap_port, self.pop3_port, self.root)
        return self

    def deliver(self, username: str, *messages: bytes, folder: str = "INBOX") -> None:
        """Put ``messages`` in the user's folder, as a delivery agent would (IMAP ``APPEND``, each a new UID)."""
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            client.login(username, self._users[username])
            for raw in messages:
                status, answer = client.append(folder, None, None, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND to {username}'s {folder} failed: {answer!r}")
        finally:
            client.logout()

    def count(self, username: str, folder: str = "INBOX") -> int:
        """How many messages the user's folder holds (deleted ones expunged)."""
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            client.login(username, self._users[username])
            status, answer = client.select(folder, readonly=True)
            if status != "OK":
                raise RuntimeError(f"{username}'s {folder} cannot be opened: {answer!r}")
            first = answer[0]
            return int(first) if isinstance(first, bytes | str) else 0
        finally:
            client.logout()

    def log_exists(self) -> bool:
        return (self.root / "dovecot.log").exists()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
