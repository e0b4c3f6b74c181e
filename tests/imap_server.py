"""A real IMAP server for the tests: Debian's Dovecot, started without systemd in a folder of
its own, on a free port of 127.0.0.1, with one mail user; stopped by the test that started it."""

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "member", "mailbox password 1"


@dataclass
class Imap:
    port: int
    folder_root: Path

    def connect(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(USER, PASSWORD)
        return connection

    def fill(self, folder: str, messages: list[bytes]) -> None:
        connection = self.connect()
        connection.create(f'"{folder}"')
        for raw in messages:
            crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            status, _ = connection.append(f'"{folder}"', None, None, crlf)
            assert status == "OK"
        connection.logout()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config(root: Path, port: int) -> str:
    lines = [
        "protocols = imap",
        "listen = 127.0.0.1",
        "ssl = no",
        "disable_plaintext_auth = no",
        f"base_dir = {root}/run",
        f"state_dir = {root}/state",
        "log_path = /dev/stderr",
        "auth_mechanisms = plain login",
        "first_valid_uid = 0",
        f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {root}/users\n}}",
        f"userdb {{\n  driver = passwd-file\n  args = username_format=%u {root}/users\n}}",
        "mail_location = maildir:~/Maildir",
        f"service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n"
        + ("" if os.geteuid() == 0 else "  chroot =\n")
        + "}",
    ]
    if os.geteuid() != 0:  # as an ordinary user: every part of Dovecot runs as that user
        user = os.environ.get("USER") or str(os.geteuid())
        lines += [
            f"default_login_user = {user}",
            f"default_internal_user = {user}",
            f"default_internal_group = {user}",
            "service anvil {\n  chroot =\n}",
        ]
    return "\n".join(lines) + "\n"


def start() -> tuple[subprocess.Popen, Imap, Path]:
    """In a folder of its own under the system's temporary folder: the mail user (not root)
    must be able to reach its home, which a test's private tmp_path does not allow."""
    if not os.path.exists(DOVECOT):
        raise RuntimeError("Dovecot is missing: scripts/install-system-packages installs it")
    root = Path(tempfile.mkdtemp(prefix="uphold-imap-"))
    home = root / "home"
    home.mkdir(parents=True)
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    gid = 65534 if os.geteuid() == 0 else os.getegid()
    if os.geteuid() == 0:
        os.chown(home, uid, gid)
        os.chmod(root, 0o755)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n")
    port = _free_port()
    (root / "dovecot.conf").write_text(_config(root, port))
    process = subprocess.Popen(
        [DOVECOT, "-c", str(root / "dovecot.conf"), "-F"],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "log", "wb"),  # noqa: SIM115 (Dovecot writes to it until stopped)
    )
    server = Imap(port, home)
    deadline = time.monotonic() + 15
    while True:
        try:
            server.connect().logout()
            return process, server, root
        except (OSError, imaplib.IMAP4.error):
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise RuntimeError("Dovecot did not start: " + (root / "log").read_text()) from None
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
