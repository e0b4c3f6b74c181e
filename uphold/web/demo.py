"""The demo: its accounts (listed on the login page in demo mode on 127.0.0.1 only), where its
email goes, and the worker that runs beside its server."""

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest

from uphold.accounts.services import totp_code

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Often enough that a step or meeting added in the demo soon has its reminder in the folder.
WORKER_REMIND_EVERY = 60.0


def accounts_file() -> Path:
    return settings.DATA_DIR / "demo-accounts.json"


def save_accounts(accounts: list[dict]) -> None:
    path = accounts_file()
    path.write_text(json.dumps(accounts, indent=2))
    path.chmod(0o600)


def load_accounts() -> list[dict]:
    path = accounts_file()
    return json.loads(path.read_text()) if path.exists() else []


def accounts_for(request: HttpRequest) -> list[dict]:
    """Never in production or test settings, never for a request to another host name."""
    if not settings.DEMO or request.get_host().split(":")[0] not in LOCAL_HOSTS:
        return []
    if request.META.get("REMOTE_ADDR") not in {"127.0.0.1", "::1"}:
        return []
    return [{**account, "code": totp_code(account["totp_key"])} for account in load_accounts()]


def mail_folder() -> Path | None:
    """Where the demo's email goes, or None when it goes to a real mail server."""
    if settings.EMAIL_BACKEND != "uphold.lib.mailcatcher.EmailBackend":
        return None
    return Path(settings.EMAIL_FILE_PATH)


def address_of(username: str) -> str:
    """A demo account's notice address: the reserved .invalid domain reaches no one."""
    return f"{username}@demo.invalid"


def worker_command(remind_every: float = WORKER_REMIND_EVERY) -> list[str]:
    return [
        sys.executable, "-m", "uphold.cli", "worker",
        "--remind-every", str(remind_every), "--no-startup-delay", "--no-reload",
    ]  # fmt: skip


@contextlib.contextmanager
def worker_beside() -> Iterator[subprocess.Popen]:
    """`uphold worker` as a child process for as long as the block runs (the demo's server).

    The server's forked processes leave the block too when they exit; only the process that
    started the worker stops it.
    """
    environment = os.environ | {"UPHOLD_MODE": "demo", "UPHOLD_DATA_DIR": str(settings.DATA_DIR)}
    worker = subprocess.Popen(worker_command(), env=environment)  # noqa: S603 (our own argv)
    starter = os.getpid()
    try:
        yield worker
    finally:
        if os.getpid() == starter:
            stop_worker(worker)


def stop_worker(worker: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM lets the worker finish the task at hand; one that hangs is killed."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(grace)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
