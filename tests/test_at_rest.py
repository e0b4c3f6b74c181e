"""Markers written through the real code paths appear nowhere on disk in a readable form.

A separate process fills a fresh data folder (SQLite with its WAL) or a fresh PostgreSQL
database: users, a process with a marker in every encrypted field, a login and page views
through the web stack, a 4 MB document uploaded through the web form, and an mbox whose message
(its address, subject, body and attachment) is brought into the log through the Mail page. Then the data folder
(with the temporary folder and the copy `uphold backup` makes inside it), the logs and a
pg_dump are searched for the markers in UTF-8 and UTF-16.
"""

import glob
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

MARK = "ATREST-MARKER-5c1e"

FILL = f"""
import django; django.setup()
from django.test import Client
from django.core.management import call_command
call_command("migrate", verbosity=0)
from uphold.processes.sample import build_process
from uphold.accounts.services import totp_code
people = build_process("kestrel", [("support", "support"), ("contact", "contact")],
                       title="{MARK}-processes.process.title")
account = people[1]
client = Client()
client.post("/login/", {{"username": account["username"], "password": account["password"],
                        "code": totp_code(account["totp_key"])}})
page = client.get("/p/kestrel/").content.decode()
assert "{MARK}" in page, "the member must read it, or this test proves nothing"
from django.core.files.uploadedfile import SimpleUploadedFile
document = SimpleUploadedFile("{MARK}-attachments.attachment.name.txt",
                              ("{MARK}-attachments.attachmentchunk.data " * 100000).encode())
assert client.post("/p/kestrel/documents/", {{"file": document}}).status_code == 302
listing = client.get("/p/kestrel/documents/").content.decode()
assert "{MARK}-attachments.attachment.name" in listing
from email.message import EmailMessage
from uphold.web.once import fresh
x = "{MARK}-x@example.org".lower()
assert client.post("/p/kestrel/mail/addresses/",
                   {{"party": "x", "address": x, "once": fresh()}}).status_code == 302
mail = EmailMessage()
mail["From"], mail["To"], mail["Subject"] = x, "{MARK}-member@example.org", "{MARK}-subject"
mail["Date"], mail["Message-ID"] = "Tue, 1 Mar 2022 09:30:00 +0000", "<{MARK}-id@example.org>"
mail.set_content("{MARK}-body")
mail.add_attachment(b"{MARK}-attachment-data", maintype="application", subtype="pdf",
                    filename="{MARK}-attachment.pdf")
mbox = b"From MAILER-DAEMON Tue Mar  1 09:30:00 2022\\n" + mail.as_bytes() + b"\\n"
upload = SimpleUploadedFile("{MARK}-mail.mbox", mbox)
reading = client.post("/p/kestrel/mail/", {{"files": [upload]}})
import re
summary = re.search(r'href="(/p/kestrel/mail/imports/[0-9]+/)"',
                    b"".join(reading.streaming_content).decode())[1]
assert "{MARK}-subject" in client.get(summary).content.decode()
assert client.post(summary + "confirm/").status_code == 302
assert "{MARK}-subject" in client.get("/p/kestrel/log/").content.decode()
client.get("/p/kestrel/mail/")
client.get("/p/kestrel/audit/")
call_command("backup")
print("filled")
"""


def forms(marker: str) -> list[bytes]:
    """As stored, in UTF-16 too, and in lower case (as an email address is kept)."""
    return [
        form
        for text in (marker, marker.lower())
        for form in (text.encode(), text.encode("utf-16-le"), text.encode("utf-16-be"))
    ]


def fill(data: Path, database_url: str | None) -> str:
    """Temporary files go inside the data folder too, so the search covers them."""
    (data / "tmp").mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "UPHOLD_MODE": "test",
        "UPHOLD_DATA_DIR": str(data),
        "TMPDIR": str(data / "tmp"),
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, "-c", FILL],
        env=env | {"DJANGO_SETTINGS_MODULE": "uphold.settings"},
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    return (result.stdout + result.stderr).decode(errors="replace")


def assert_absent(blob: bytes, where: str) -> None:
    for form in forms(MARK):
        assert form not in blob, f"marker readable in {where}"


def test_sqlite_file_wal_data_folder_and_logs_hold_no_marker(tmp_path):
    output = fill(tmp_path, None)
    assert "filled" in output
    assert_absent(output.encode(), "the logs")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "backups" and p.suffix == ".sqlite3" for p in files)
    assert any(p.name.endswith("-wal") for p in files) or any(p.suffix == ".sqlite3" for p in files)
    for path in files:
        assert_absent(path.read_bytes(), str(path))


def test_a_postgresql_dump_holds_no_marker(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("runs in the PostgreSQL pass of CI")
    import psycopg

    name = f"uphold_at_rest_{uuid.uuid4().hex[:8]}"
    admin = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        target = urlparse(url)._replace(path=f"/{name}").geturl()
        fill(tmp_path, target)
        pg_dump = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
        dump = subprocess.run([pg_dump, target], capture_output=True, check=True).stdout
        assert b"processes_process" in dump
        assert_absent(dump, "pg_dump")
        backups = list((tmp_path / "backups").glob("*.pgdump"))
        assert backups
        assert_absent(backups[0].read_bytes(), "uphold backup")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
