"""Every project command of `uphold help`, run as cron or CI would run it (no terminal, no
input), with the ordinary mistakes: each refusal is one plain line and a non-zero exit, never a
traceback. Cases that change nothing share one migrated data folder."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import uphold
from uphold.web.management.commands.backup import check_sqlite_copy, sqlite_snapshot

from .test_cli import uphold as run

PASSWORD = "a long passphrase 1"
SETUP = """
import django; django.setup()
from uphold.accounts.models import User
from uphold.accounts.services import acting_as, accept_as_member
from uphold.processes.services import invite_member, start_process
robin, pat = (acting_as(User.objects.get(username=n)) for n in ("robin", "pat"))
start_process(robin, "real-one", "support")
_invitation, token = invite_member(robin, "real-one", "community")
accept_as_member(pat, token)
User.objects.filter(username="pat").update(language="de")
"""


def uphold_no_input(*args: str, data: Path, mode: str = "test", **env: str):
    """As `tests/test_cli.uphold`, but with nothing on standard input (cron, systemd, CI)."""
    environment = os.environ | {"UPHOLD_MODE": mode, "UPHOLD_DATA_DIR": str(data)} | env
    environment.pop("DATABASE_URL", None)
    if "UPHOLD_PASSWORD" not in env:
        environment.pop("UPHOLD_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "uphold.cli", *args],
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """robin (support of real-one), pat (its community group, reads German), sam (no process)."""
    data = tmp_path_factory.mktemp("migrated")
    assert run("migrate", data=data).returncode == 0
    for name in ("robin", "pat", "sam"):
        made = run("createuser", name, data=data, UPHOLD_PASSWORD=PASSWORD)
        assert made.returncode == 0, made.stderr
    env = os.environ | {"UPHOLD_MODE": "test", "UPHOLD_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-c", SETUP],
        env=env | {"DJANGO_SETTINGS_MODULE": "uphold.settings"},
        check=True,
    )
    return data


PACKAGE = Path(uphold.__file__).parent
OWN_COMMANDS = sorted(
    p.stem for p in PACKAGE.glob("*/management/commands/*.py") if not p.stem.startswith("_")
)


def listed_commands(data: Path) -> set[str]:
    """The commands `uphold help` lists under Uphold's own apps."""
    listing = run("help", data=data)
    ours = {p.name for p in PACKAGE.iterdir() if p.is_dir()}
    commands, section = set(), None
    for line in listing.stdout.splitlines():
        if match := re.fullmatch(r"\[(\w+)\]", line.strip()):
            section = match[1]
        elif line.startswith("    ") and section in ours:
            commands.add(line.strip())
    return commands


P = {"UPHOLD_PASSWORD": PASSWORD}
LONG = "a" * 200
# (command and arguments, data folder, environment, what the line says). Folders: "migrated"
# (shared), "empty" (a fresh folder: no database), "unmigrated" (a database file, never set up).
CASES = [
    # Without a password and without a terminal.
    (["processes", "--user", "robin"], "migrated", {}, "No password given"),
    (["verify", "--user", "robin"], "migrated", {}, "No password given"),
    (["rotate", "real-one", "--user", "robin"], "migrated", {}, "No password given"),
    (["createuser", "newcomer"], "migrated", {}, "No password given"),
    # A wrong password, a missing argument.
    (["processes", "--user", "robin"], "migrated", {"UPHOLD_PASSWORD": "nope"}, "is wrong"),
    (["processes"], "migrated", {}, "required: --user"),
    (["programmes-import", "x.csv", "--user", "robin"], "migrated", {}, "No password given"),
    (["programmes-import", "--user", "robin"], "migrated", P, "required: file"),
    (["programmes-import", "{file}", "--user", "pat"], "migrated", P, "Nicht erlaubt"),
    (["programmes-import", "{file}", "--user", "robin"], "migrated", P, "Row 1: The file is empty"),
    (["programmes-import", "{file}/no", "--user", "robin"], "migrated", P, "There is no file"),
    (["mail-import", "real-one", "x.mbox", "--user", "robin"], "migrated", {}, "No password"),
    (["mail-import", "real-one", "--user", "robin"], "migrated", P, "required: files"),
    (
        ["mail-import", "real-one", "{file}/no", "--user", "robin"],
        "migrated",
        P,
        "There is no file",
    ),
    (["mail-import", "real-one", "{file}", "--user", "robin"], "migrated", P, "Not allowed"),
    (["mail-import", "nosuch", "{file}", "--user", "robin"], "migrated", P, "Not found"),
    # Service refusals, as on the web, in the member's language.
    (["rotate", "nosuch", "--user", "robin"], "migrated", P, "Not found: There is nothing"),
    (["stats", "real-one", "--user", "robin"], "migrated", {}, "No password given"),
    (
        [
            "report",
            "real-one",
            "--kind",
            "retrospective",
            "--format",
            "md",
            "--out",
            "{file}.md",
            "--user",
            "robin",
        ],
        "migrated",
        {},
        "No password given",
    ),
    (
        [
            "report",
            "real-one",
            "--kind",
            "letter",
            "--format",
            "md",
            "--out",
            "x",
            "--user",
            "robin",
        ],
        "migrated",
        P,
        "invalid choice: 'letter'",
    ),
    (
        [
            "report",
            "real-one",
            "--kind",
            "retrospective",
            "--format",
            "doc",
            "--out",
            "x",
            "--user",
            "robin",
        ],
        "migrated",
        P,
        "invalid choice: 'doc'",
    ),
    (
        ["report", "real-one", "--kind", "retrospective", "--format", "md", "--user", "robin"],
        "migrated",
        P,
        "required: --out",
    ),
    (
        [
            "report",
            "real-one",
            "--kind",
            "retrospective",
            "--format",
            "md",
            "--out",
            "{file}",
            "--user",
            "robin",
        ],
        "migrated",
        P,
        "already. Name another",
    ),
    (
        [
            "report",
            "real-one",
            "--kind",
            "retrospective",
            "--format",
            "md",
            "--out",
            "{file}/no/x.md",
            "--user",
            "robin",
        ],
        "migrated",
        P,
        "There is no folder",
    ),
    (
        [
            "report",
            "nosuch",
            "--kind",
            "retrospective",
            "--format",
            "md",
            "--out",
            "{file}.md",
            "--user",
            "robin",
        ],
        "migrated",
        P,
        "Not found: There is nothing",
    ),
    (
        [
            "report",
            "real-one",
            "--kind",
            "retrospective",
            "--format",
            "md",
            "--out",
            "{file}.md",
            "--user",
            "pat",
        ],
        "migrated",
        P,
        "Nicht erlaubt: Deine Rolle",
    ),
    (["stats", "--user", "robin"], "migrated", P, "required: code"),
    (["stats", "nosuch", "--user", "robin", "--json"], "migrated", P, "Not found: There is"),
    (["stats", "real-one", "--user", "sam"], "migrated", P, "Not found: There is nothing"),
    (["stats", "real-one", "--user", "pat"], "migrated", P, "Nicht erlaubt: Deine Rolle"),
    (["rotate", "real-one", "--user", "sam"], "migrated", P, "Not found: There is nothing"),
    (["rotate", "real-one", "--user", "pat"], "migrated", P, "Nicht erlaubt: Deine Rolle"),
    # The web's rules for a new account.
    (["createuser", ""], "migrated", P, "Use 2 to 40 letters"),
    (["createuser", "bad name!/x"], "migrated", P, "Use 2 to 40 letters"),
    (["createuser", LONG], "migrated", P, "Use 2 to 40 letters"),
    (["createuser", "Robin"], "migrated", P, "That username is taken"),
    (["createuser", "newcomer"], "migrated", {"UPHOLD_PASSWORD": "short"}, "too short"),
    # Numbers out of range.
    (["serve", "--workers", "0"], "migrated", {}, "--workers must be a whole number from 1"),
    (["serve", "--threads", "0"], "migrated", {}, "--threads must be a whole number from 1"),
    (["serve", "--port", "-1"], "migrated", {}, "--port must be a whole number from 1 to 65535"),
    (["serve", "--port", "99999"], "migrated", {}, "--port must be a whole number from 1"),
    (["serve", "--port", "eighty"], "migrated", {}, "--port must be a whole number"),
    (["demo", "--port", "99999"], "migrated", {}, "--port must be a whole number from 1"),
    (["worker", "--remind-every", "-1"], "migrated", {}, "--remind-every must be a number"),
    (["worker", "--remind-every", "inf"], "migrated", {}, "--remind-every must be a number"),
    (["worker", "--remind-every", "nan"], "migrated", {}, "--remind-every must be a number"),
    (["worker", "--clean-every", "-5"], "migrated", {}, "--clean-every must be a number"),
    (["worker", "--interval", "inf"], "migrated", {}, "--interval must be a number"),
    (["worker", "--max-tasks", "0"], "migrated", {}, "--max-tasks must be a whole number"),
    (["generate", "--processes", "0"], "migrated", {}, "--processes must be a whole number"),
    (["generate", "--processes", "-1"], "migrated", {}, "--processes must be a whole number"),
    (["generate", "--seed", "x"], "migrated", {}, "--seed must be a whole number"),
    (["generate", "--entries", "-5"], "migrated", {}, "--entries must be a whole number"),
    (["generate", "--entries", "100000"], "migrated", {}, "--entries must be a whole number"),
    # Other arguments.
    (["check", "nosuchapp"], "migrated", {}, "No installed app with label 'nosuchapp'"),
    (["backup", "--to", "{file}"], "migrated", {}, "is a file, not a folder"),
    (["backup", "--to", "{file}/sub"], "migrated", {}, "cannot be made"),
    (["changepassword", "robin"], "migrated", {}, "Change yours on the Password page"),
    (["compiletranslations", "extra"], "migrated", {}, "unrecognized arguments: extra"),
    (["demo", "--no-serve"], "migrated", {}, "UPHOLD_MODE=demo"),
    # A database that is not there, or was never set up: nothing to work on, nothing made.
    (["generate"], "empty", {}, "run `uphold migrate` first"),
    (["verify"], "empty", {}, "run `uphold migrate` first"),
    (["processes", "--user", "robin"], "empty", P, "run `uphold migrate` first"),
    (["rotate", "real-one", "--user", "robin"], "empty", P, "run `uphold migrate` first"),
    (["createuser", "robin"], "empty", P, "run `uphold migrate` first"),
    (["backup"], "empty", {}, "run `uphold migrate` first"),
    (["serve"], "empty", {}, "run `uphold migrate` first"),
    (["worker", "--batch"], "empty", {}, "run `uphold migrate` first"),
    (["generate"], "unmigrated", {}, "never set up: run `uphold migrate` first"),
    (["verify"], "unmigrated", {}, "never set up: run `uphold migrate` first"),
    (["processes", "--user", "robin"], "unmigrated", P, "never set up"),
    (["backup"], "unmigrated", {}, "never set up: run `uphold migrate` first"),
]


def _folder(kind: str, migrated: Path, tmp_path: Path) -> Path:
    if kind == "migrated":
        return migrated
    data = tmp_path / "data"
    if kind == "unmigrated":
        data.mkdir()
        sqlite3.connect(data / "uphold.sqlite3").close()
    return data


def assert_one_plain_line(result: subprocess.CompletedProcess, says: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode != 0, output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert says in lines[0], lines[0]


@pytest.mark.parametrize(("args", "folder", "env", "says"), CASES, ids=lambda v: str(v)[:40])
def test_a_command_refuses_bad_input_in_one_plain_line(args, folder, env, says, migrated, tmp_path):
    (tmp_path / "a-file").write_text("")
    args = [a.replace("{file}", str(tmp_path / "a-file")) for a in args]
    mode = "demo" if args[:1] == ["demo"] and "--port" in args else "test"
    result = uphold_no_input(*args, data=_folder(folder, migrated, tmp_path), mode=mode, **env)
    assert_one_plain_line(result, says)


def test_every_project_command_has_a_refusal_case(tmp_path):
    listed = listed_commands(tmp_path)
    assert listed == set(OWN_COMMANDS)
    assert listed - {args[0] for args, *_ in CASES} == set()


@pytest.mark.parametrize("command", OWN_COMMANDS)
@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"UPHOLD_SMTP_PORT": "abc"}, "UPHOLD_SMTP_PORT must be a whole number"),
        ({"UPHOLD_SESSION_IDLE_MINUTES": "-3"}, "UPHOLD_SESSION_IDLE_MINUTES must be"),
        ({"UPHOLD_DATA_DIR": "{file}/data"}, "cannot be made or used"),
    ],
    ids=["smtp-port", "idle-minutes", "data-folder"],
)
def test_a_setting_that_cannot_be_used_stops_every_command_in_one_line(
    command, env, says, tmp_path
):
    (tmp_path / "a-file").write_text("")
    env = {k: v.replace("{file}", str(tmp_path / "a-file")) for k, v in env.items()}
    result = uphold_no_input(command, data=tmp_path / "data", **env)
    assert_one_plain_line(result, says)


def test_traceback_shows_where_a_refusal_came_from(migrated):
    result = uphold_no_input("serve", "--workers", "0", "--traceback", data=migrated)
    assert result.returncode != 0 and "Traceback" in result.stderr


@pytest.mark.parametrize("database", ["missing", "empty file", "never migrated"])
def test_backup_with_nothing_to_back_up_refuses_and_writes_nothing(tmp_path, database):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "uphold.sqlite3"
    if database == "empty file":
        db.touch()
    elif database == "never migrated":
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE notes (x)")
    before = {p: p.stat().st_size for p in data.rglob("*")} | {}
    result = uphold_no_input("backup", data=data)
    assert_one_plain_line(result, "uphold migrate")
    assert not (data / "backups").exists()
    after = {p: p.stat().st_size for p in data.rglob("*") if p.name != "secret_key"}
    assert after == {p: s for p, s in before.items() if p.name != "secret_key"}
    assert db.exists() == (database != "missing")


def _database(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE TABLE steps (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE INDEX entries_body ON entries (body)")
        conn.executemany("INSERT INTO entries (body) VALUES (?)", [("a",), ("b",), ("c",)])
        conn.execute("INSERT INTO steps DEFAULT VALUES")
    conn.close()
    return path


def _snapshot_and_copy(tmp_path: Path):
    source = sqlite3.connect(_database(tmp_path / "source.sqlite3"))
    expected = sqlite_snapshot(source)
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(copy) as target:
        source.backup(target)
    target.close()
    source.close()
    return expected, copy


def _doctor(copy: Path, sql: str) -> None:
    with sqlite3.connect(copy) as conn:
        conn.execute(sql)
    conn.close()


def test_the_backup_check_passes_a_true_copy(tmp_path):
    expected, copy = _snapshot_and_copy(tmp_path)
    assert expected.rows == {"entries": 3, "steps": 1}
    check_sqlite_copy(copy, expected)


@pytest.mark.parametrize(
    ("doctoring", "says"),
    [
        ("DROP TABLE steps", "table steps is missing"),
        ("DELETE FROM entries WHERE body = 'b'", "table entries has 2 rows instead of 3"),
        ("INSERT INTO steps DEFAULT VALUES", "table steps has 2 rows instead of 1"),
        ("DROP INDEX entries_body", "index entries_body is missing"),
        ("CREATE TABLE extra (x)", "table extra is not in the source"),
    ],
)
def test_the_backup_check_catches_a_copy_unlike_its_source(tmp_path, doctoring, says):
    from django.core.management.base import CommandError

    expected, copy = _snapshot_and_copy(tmp_path)
    _doctor(copy, doctoring)
    with pytest.raises(CommandError, match=says):
        check_sqlite_copy(copy, expected)


def test_the_backup_check_refuses_a_copy_of_an_empty_database(tmp_path):
    from django.core.management.base import CommandError

    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(CommandError, match="the source holds no tables"):
        check_sqlite_copy(empty, sqlite_snapshot(sqlite3.connect(empty)))
