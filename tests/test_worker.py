"""Two real `uphold worker` processes share 500 due reminders; one is killed mid-run.

They run against a database of their own (SQLite, or PostgreSQL when DATABASE_URL names one,
as in CI's second pass) and send through a real SMTP server (aiosmtpd) started here.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlparse

import pytest

REMINDERS = 500
LEASE_SECONDS = 3
ROOT = Path(__file__).resolve().parent.parent


class Inbox:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.ids.append(message["Message-ID"])
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.ids)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database(tmp_path):
    """A fresh database URL and a function that runs one SQL query on it."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        name = f"uphold_workers_{os.getpid()}"
        admin = urlparse(url)._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        own = urlparse(url)._replace(path=f"/{name}").geturl()

        def query(sql: str) -> list[tuple]:
            with psycopg.connect(own) as conn:
                return conn.execute(sql).fetchall()

        yield own, query
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "workers.sqlite3"

        def query(sql: str) -> list[tuple]:
            with sqlite3.connect(path, timeout=30) as conn:
                return conn.execute(sql).fetchall()

        yield f"sqlite:///{path}", query


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_two_workers_one_killed_send_every_reminder_exactly_once(database, tmp_path):
    from aiosmtpd.controller import Controller

    url, query = database
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    env = os.environ | {
        "DATABASE_URL": url,
        "UPHOLD_MODE": "test",
        "UPHOLD_DATA_DIR": str(tmp_path),
        "UPHOLD_SMTP_HOST": "127.0.0.1",
        "UPHOLD_SMTP_PORT": str(smtp.port),
        "UPHOLD_REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
        "DJANGO_SETTINGS_MODULE": "uphold.settings",
        "PYTHONPATH": str(ROOT),
    }
    uphold = [sys.executable, "-m", "uphold.cli"]
    subprocess.run([*uphold, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [sys.executable, "-m", "tests.worker_seed", str(REMINDERS)], env=env, check=True, cwd=ROOT
    )
    worker = [*uphold, "worker", "--interval", "0.05", "--remind-every", "0.5", "-v", "0"]
    workers = [
        subprocess.Popen([*worker, "--worker-id", name], env=env, cwd=ROOT)
        for name in ("first", "second")
    ]
    try:
        _wait(lambda: inbox.count() >= REMINDERS // 5, 120, "the first reminders")
        workers[0].send_signal(signal.SIGKILL)  # no chance to tidy up
        workers[0].wait(timeout=10)
        killed_at = inbox.count()
        assert killed_at < REMINDERS, "the first worker must die mid-run"

        def all_sent() -> bool:
            return query("SELECT COUNT(*) FROM record_reminder WHERE state = 'sent'")[0][0] == (
                REMINDERS
            )

        _wait(all_sent, 180, "every reminder to be sent")
        time.sleep(LEASE_SECONDS)  # time for a wrongly reclaimed reminder to go out twice
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        smtp.stop()

    deliveries = Counter(inbox.ids)
    assert len(deliveries) == REMINDERS, "every reminder arrived"
    rows = query("SELECT id, attempts FROM record_reminder")
    reclaimed = {pk for pk, attempts in rows if attempts > 1}
    # Only a reminder the killed worker held can be claimed twice, after its lease ran out.
    assert len(reclaimed) <= 1
    twice = {mid for mid, n in deliveries.items() if n > 1}
    if twice:
        # The killed worker handed it to the mail server but died before it could write
        # "sent": no program can know whether that message left (docs/security.md). It went
        # out again with the same Message-ID, so mail programs show it once.
        assert len(twice) == 1 and max(deliveries.values()) == 2
        [(pk,)] = [(pk,) for pk in reclaimed]
        assert f"-{pk}@" in next(iter(twice))
    assert sum(deliveries.values()) <= REMINDERS + 1
