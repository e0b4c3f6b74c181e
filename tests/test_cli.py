"""The `uphold` command, run as a person would run it: as a separate process."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def uphold(*args: str, data: Path, mode: str = "test", **env: str) -> subprocess.CompletedProcess:
    environment = os.environ | {"UPHOLD_MODE": mode, "UPHOLD_DATA_DIR": str(data)} | env
    environment.pop("DATABASE_URL", None)  # each run gets its own SQLite in `data`
    return subprocess.run(
        [sys.executable, "-m", "uphold.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = uphold(
        "check", "--deploy", "--fail-level", "WARNING",
        data=tmp_path, mode="production", UPHOLD_ALLOWED_HOSTS="uphold.example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_data_folder_is_private_and_holds_the_secret_key(tmp_path):
    data = tmp_path / "data"
    assert uphold("check", data=data).returncode == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    key = data / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_text()
    uphold("check", data=data)
    assert key.read_text() == first and len(first) > 50


# Run with the umask most systems give: files others may read, unless Uphold says otherwise.
OPEN_UMASK = 0o022
LISTING = """
import io, os, stat, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
call_command("backup", stdout=io.StringIO())
with connection.cursor() as cursor:  # still open: the -wal and -shm files exist now
    cursor.execute("SELECT COUNT(*) FROM django_migrations")
data = sys.argv[1]
for folder, _dirs, files in os.walk(data):
    for name in [folder, *(os.path.join(folder, f) for f in files)]:
        print(os.path.relpath(name, data), oct(stat.S_IMODE(os.stat(name).st_mode)))
"""


def test_the_database_its_wal_files_and_backups_are_the_owners_alone(tmp_path):
    data = tmp_path / "data"
    env = os.environ | {
        "UPHOLD_MODE": "test",
        "UPHOLD_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "uphold.settings",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", LISTING, str(data)],
        env=env, capture_output=True, text=True, timeout=120, umask=OPEN_UMASK,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    modes = dict(line.split() for line in result.stdout.splitlines())
    names = set(modes)
    assert {"uphold.sqlite3", "uphold.sqlite3-wal", "uphold.sqlite3-shm", "secret_key"} <= names
    assert any(n.startswith("backups/uphold-") and n.endswith(".sqlite3") for n in names)
    assert any(n.endswith(".sqlite3.sha256") for n in names)
    folders = {".", "backups"}
    assert {n: m for n, m in modes.items() if n in folders} == dict.fromkeys(folders, "0o700")
    assert {n: m for n, m in modes.items() if n not in folders} == dict.fromkeys(
        names - folders, "0o600"
    )


def test_a_database_file_others_could_read_is_made_private_on_start(tmp_path):
    import sqlite3

    data = tmp_path / "data"
    data.mkdir()
    database = data / "uphold.sqlite3"
    sqlite3.connect(database).close()
    database.chmod(0o644)
    assert uphold("check", data=data).returncode == 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path):
    assert uphold("migrate", data=tmp_path).returncode == 0
    code = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "print(c.execute('pragma journal_mode').fetchone()[0], "
        "c.execute('pragma synchronous').fetchone()[0])"
    )
    env = os.environ | {"UPHOLD_MODE": "test", "UPHOLD_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env | {"DJANGO_SETTINGS_MODULE": "uphold.settings"},
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert out == ["wal", "2"]


def test_createuser_and_acting_as_a_member(tmp_path):
    assert uphold("migrate", data=tmp_path).returncode == 0
    made = uphold("createuser", "robin", data=tmp_path, UPHOLD_PASSWORD="a long passphrase 1")
    assert made.returncode == 0, made.stderr
    assert "Authenticator key:" in made.stdout
    listed = uphold(
        "processes", "--user", "robin", data=tmp_path, UPHOLD_PASSWORD="a long passphrase 1"
    )
    assert listed.returncode == 0, listed.stderr
    wrong = uphold("processes", "--user", "robin", data=tmp_path, UPHOLD_PASSWORD="nope")
    assert wrong.returncode != 0 and "wrong" in wrong.stderr


def test_a_member_command_refuses_absurd_argon2_parameters_with_a_clear_error(tmp_path):
    uphold("migrate", data=tmp_path)
    uphold("createuser", "robin", data=tmp_path, UPHOLD_PASSWORD="a long passphrase 1")
    code = (
        "import django; django.setup(); from uphold.crypto.models import UserKey; "
        "UserKey.objects.filter(user__username='robin').update(kdf_memlimit=2**40)"
    )
    env = os.environ | {"UPHOLD_MODE": "test", "UPHOLD_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-c", code],
        env=env | {"DJANGO_SETTINGS_MODULE": "uphold.settings"},
        check=True,
    )
    result = uphold(
        "processes", "--user", "robin", data=tmp_path, UPHOLD_PASSWORD="a long passphrase 1"
    )
    assert result.returncode != 0
    assert "outside the safe range" in result.stderr
    assert "Traceback" not in result.stderr


def test_createuser_refuses_a_weak_password(tmp_path):
    uphold("migrate", data=tmp_path)
    result = uphold("createuser", "robin", data=tmp_path, UPHOLD_PASSWORD="short")
    assert result.returncode != 0 and "too short" in result.stderr


def test_the_demo_sets_up_every_role_once(tmp_path):
    first = uphold("demo", "--no-serve", data=tmp_path, mode="demo")
    assert first.returncode == 0, first.stderr
    for role in ("admin", "survivor", "support", "contact", "community", "respondent"):
        assert role in first.stdout
    again = uphold("demo", "--no-serve", data=tmp_path, mode="demo")
    assert again.returncode == 0 and again.stdout.count("kestrel") == first.stdout.count("kestrel")
    assert stat.S_IMODE((tmp_path / "demo-accounts.json").stat().st_mode) == 0o600
    assert f"each message is a file in {tmp_path / 'demo-mail'}/" in first.stdout


PRINT_MAIL = "from django.conf import settings; print(settings.EMAIL_BACKEND)"


def test_the_demo_catches_mail_in_a_folder_unless_an_smtp_host_is_set(tmp_path):
    caught = uphold("shell", "--no-imports", "-c", PRINT_MAIL, data=tmp_path, mode="demo")
    assert caught.stdout.strip() == "uphold.lib.mailcatcher.EmailBackend", caught.stderr
    sent = uphold(
        "shell", "--no-imports", "-c", PRINT_MAIL, data=tmp_path, mode="demo", UPHOLD_SMTP_HOST="mx"
    )
    assert sent.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend"
    production = uphold("shell", "--no-imports", "-c", PRINT_MAIL, data=tmp_path, mode="production")
    assert production.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend"


def test_the_demo_refuses_production_settings(tmp_path):
    result = uphold("demo", "--no-serve", data=tmp_path, mode="production")
    assert result.returncode != 0 and "UPHOLD_MODE=demo" in result.stderr


def test_generate_fills_processes_and_refuses_beside_real_ones(tmp_path):
    uphold("migrate", data=tmp_path)
    made = uphold("generate", "--processes", "2", data=tmp_path)
    assert made.returncode == 0, made.stderr
    lines = made.stdout.strip().splitlines()
    assert len(lines) == 3 and all("\t11 members\t50 log entries" in line for line in lines[:2])
    assert lines[2] == f"Accounts and passwords: {tmp_path / 'generated-accounts.json'}"
    uphold("createuser", "robin", data=tmp_path, UPHOLD_PASSWORD="a long passphrase 1")
    code = (
        "import django; django.setup(); from uphold.accounts.models import User; "
        "from uphold.accounts.services import acting_as; "
        "from uphold.processes.services import start_process; "
        "start_process(acting_as(User.objects.get(username='robin')), 'real-one', 'support')"
    )
    env = os.environ | {"UPHOLD_MODE": "test", "UPHOLD_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-c", code],
        env=env | {"DJANGO_SETTINGS_MODULE": "uphold.settings"},
        check=True,
    )
    refused = uphold("generate", "--processes", "1", data=tmp_path)
    assert refused.returncode != 0 and "real processes" in refused.stderr


@pytest.mark.parametrize("command", ["serve", "worker", "migrate", "check"])
def test_every_django_and_uphold_command_has_help(tmp_path, command):
    result = uphold(command, "--help", data=tmp_path)
    assert result.returncode == 0 and "usage: uphold" in result.stdout


def test_the_demo_serves_on_127_0_0_1_only(tmp_path):
    result = uphold("serve", "--host", "0.0.0.0", data=tmp_path, mode="demo")
    assert result.returncode != 0 and "127.0.0.1 only" in result.stderr


def test_check_in_production_runs_the_deploy_checks(tmp_path):
    """Without allowed hosts, the deploy check warns, so plain `uphold check` must fail."""
    result = uphold("check", "--fail-level", "WARNING", data=tmp_path, mode="production")
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr
