"""The demo's mail catcher and worker: what Uphold would send lands as files in the data folder."""

import contextlib
import io
import re
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.core.management import call_command

from uphold.accounts.models import User
from uphold.demands.sample import DEMANDS, HANDED_TO, LETTER
from uphold.record.models import Reminder
from uphold.record.sample import HISTORY, MEETINGS
from uphold.web import demo

# Every text of the demo that only members may read: none of it may reach an email.
SENSITIVE = [
    LETTER,
    HANDED_TO,
    *(text for demand in DEMANDS for text in demand),
    *(summary for _day, _kind, _direction, summary, _tags in HISTORY),
    *(minutes for _day, _outcome, minutes, _steps in MEETINGS),
    *(step[1] for *_meeting, steps in MEETINGS for step in steps),
    "Community centre, Glasgow",
]
FIXED_LINES = {
    "Log in to Uphold to see the details.",
    "This reminder carries no details on purpose.",
}


def _mails(folder: Path) -> list:
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def test_the_demo_worker_puts_its_reminders_as_files_in_the_mail_folder(db, demo_mode, monkeypatch):
    # Inside the test's transaction the worker must keep the test's database connection.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    out = io.StringIO()
    call_command("demo", no_serve=True, stdout=out)
    assert f"each message is a file in {demo_mode}/" in out.getvalue()
    assert User.objects.get(username="contact").email == "contact@demo.invalid"

    call_command("worker", batch=True, startup_delay=False, verbosity=0, remind_every=1)
    mails = _mails(demo_mode)
    reminders = [m for m in mails if m["Message-ID"].startswith("<uphold-reminder-kestrel-")]
    assert reminders and len(reminders) == Reminder.objects.filter(state="sent").count()
    # The demo's story ends with the group waiting for his answer for longer than 21 days.
    assert any(m["Subject"].startswith("Process kestrel: no reply for ") for m in reminders)
    for mail in reminders:
        assert mail["To"] == "contact@demo.invalid"
        subject = mail["Subject"]
        # Only the code name and figures: with the numbers out, a fixed phrase remains.
        assert re.fullmatch(r"Process kestrel: [a-z ]+ \d+ days?( overdue)?", subject), subject
        lines = {line for line in mail.get_content().splitlines() if line}
        assert lines == {subject + ".", *FIXED_LINES}
    for path in demo_mode.glob("*.eml"):
        raw = path.read_text()
        for text in SENSITIVE:
            for line in filter(None, text.splitlines()):
                assert line not in raw


def test_the_mail_catcher_writes_one_private_file_per_message(demo_mode):
    from django.core.mail import EmailMessage, get_connection

    messages = [EmailMessage("Hallo", "Grüße", to=[f"{n}@demo.invalid"]) for n in ("a", "b")]
    assert get_connection().send_messages(messages) == 2
    files = sorted(demo_mode.glob("*.eml"))
    assert len(files) == 2 and all(f.stat().st_mode & 0o077 == 0 for f in files)
    assert [m["To"] for m in _mails(demo_mode)] == ["a@demo.invalid", "b@demo.invalid"]
    assert _mails(demo_mode)[0].get_content().strip() == "Grüße"


SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_the_worker_beside_the_server_stops_with_it(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "worker_command", lambda: SLEEPER)
    with demo.worker_beside() as worker:
        assert worker.poll() is None
    assert worker.poll() is not None


def test_a_forked_server_process_that_exits_leaves_the_worker_running(monkeypatch):
    """Gunicorn's forked processes leave the `with` block too when they exit."""
    monkeypatch.setattr(demo, "worker_command", lambda: SLEEPER)
    context = demo.worker_beside()
    worker = context.__enter__()
    try:
        with monkeypatch.context() as forked:
            forked.setattr(demo.os, "getpid", lambda: -1)
            context.__exit__(SystemExit, SystemExit(0), None)
        assert worker.poll() is None
    finally:
        demo.stop_worker(worker)
    assert worker.poll() is not None


@pytest.mark.parametrize("how_the_server_stops", [KeyboardInterrupt, SystemExit])
def test_uphold_demo_runs_the_worker_while_it_serves(
    db, demo_mode, monkeypatch, how_the_server_stops
):
    """Ctrl-C reaches the server as KeyboardInterrupt; SIGTERM makes Gunicorn exit."""
    from uphold.web.management.commands import demo as command

    seen = {}
    real_worker_beside = demo.worker_beside

    @contextlib.contextmanager
    def watched():
        with real_worker_beside() as worker:
            seen["worker"] = worker
            yield worker

    def serve_then_stop(name, **options):
        if name != "serve":
            return call_command(name, **options)
        seen["running while serving"] = seen["worker"].poll() is None
        raise how_the_server_stops

    monkeypatch.setattr(demo, "worker_command", lambda: SLEEPER)
    monkeypatch.setattr(demo, "worker_beside", watched)
    monkeypatch.setattr(command, "call_command", serve_then_stop)
    monkeypatch.setattr(command.Command, "_create", lambda self: None)
    with pytest.raises(how_the_server_stops):
        call_command("demo", stdout=io.StringIO())
    assert seen["running while serving"]
    assert seen["worker"].poll() is not None


def test_no_serve_starts_no_worker(db, demo_mode, monkeypatch):
    from uphold.web.management.commands import demo as command

    def no_worker():
        raise AssertionError("--no-serve must start no worker")

    monkeypatch.setattr(demo, "worker_beside", no_worker)
    monkeypatch.setattr(command.Command, "_create", lambda self: None)
    call_command("demo", no_serve=True, stdout=io.StringIO())
