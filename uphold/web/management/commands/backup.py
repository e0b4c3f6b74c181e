"""`uphold backup`: a consistent copy of the database, checked before it is called done.

The copy holds what the database holds: ciphertext, never a key; it opens with members'
passwords like the original. SQLite uses its online backup (safe while Uphold runs) and an
integrity check of the copy; PostgreSQL uses pg_dump. A SHA-256 file sits beside each copy.

The copy is taken inside one read transaction on the source, which also lists its schema and
counts the rows of each table: the check then proves that the copy holds that schema and those
counts, so an empty or partial copy is never reported as good. With nothing to back up (no
database at the configured place, or one never migrated) it refuses and writes nothing.
"""

import glob
import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from uphold.lib.commands import UpholdCommand


def private_file(path: Path) -> Path:
    """Makes the file (empty) readable by the owner only, before anything is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)  # in case it was there already
    finally:
        os.close(fd)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Snapshot:
    """What the source held at the moment of the copy: its schema and its rows per table."""

    schema: dict[str, str] = field(default_factory=dict)  # name: definition (SQLite) or ""
    rows: dict[str, int] = field(default_factory=dict)


def sqlite_snapshot(db: sqlite3.Connection) -> Snapshot:
    """Every table, index, view and trigger with its SQL, and each table's count of rows."""
    found = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    snapshot = Snapshot(schema={f"{kind} {name}": sql or "" for kind, name, _t, sql in found})
    for kind, name, _table, _sql in found:
        if kind == "table":
            quoted = '"' + name.replace('"', '""') + '"'
            snapshot.rows[name] = db.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0]  # noqa: S608  (names from sqlite_master)
    return snapshot


def differences(expected: Snapshot, found: Snapshot) -> list[str]:
    """What the copy lacks or holds otherwise than the source, one plain phrase each."""
    problems = []
    if not expected.rows:
        problems.append("the source holds no tables")
    for name in sorted(expected.schema.keys() - found.schema.keys()):
        problems.append(f"{name} is missing")
    for name in sorted(found.schema.keys() - expected.schema.keys()):
        problems.append(f"{name} is not in the source")
    for name in sorted(expected.schema.keys() & found.schema.keys()):
        if expected.schema[name] != found.schema[name]:
            problems.append(f"{name} is defined otherwise")
    for table, count in sorted(expected.rows.items()):
        if f"table {table}" in found.schema and found.rows.get(table, 0) != count:
            problems.append(f"table {table} has {found.rows.get(table, 0)} rows instead of {count}")
    return problems


def check_sqlite_copy(path: Path, expected: Snapshot) -> None:
    """Refuses a copy that fails SQLite's integrity check or differs from the snapshot."""
    copy = sqlite3.connect(path)
    try:
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise CommandError(f"The copy failed its integrity check: {result}.")
        problems = differences(expected, sqlite_snapshot(copy))
    except sqlite3.DatabaseError as error:
        raise CommandError(f"The copy cannot be read as a database: {error}.") from error
    finally:
        copy.close()
    if problems:
        raise CommandError(f"The copy does not match the database: {'; '.join(problems)}.")


class Command(UpholdCommand):
    help = "Write a checked copy of the database (default: the data folder's backups/)."
    needs_database = True  # no database, or one never migrated: nothing to back up

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", default=None, help="folder for the copy")

    def handle(self, *args, to: str | None, **options) -> None:
        folder = self._folder(to)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        if connection.vendor == "sqlite":
            target = folder / f"uphold-{stamp}.sqlite3"
            make = self._sqlite
        elif connection.vendor == "postgresql":
            target = folder / f"uphold-{stamp}.pgdump"
            make = self._postgres
        else:
            raise CommandError(f"There is no backup for {connection.vendor} databases.")
        if target.exists():
            raise CommandError(f"{target} exists already: wait a second and run it again.")
        try:
            make(target)
        except BaseException:
            target.unlink(missing_ok=True)  # never a copy that was not checked
            raise
        target.chmod(0o600)
        checksum = private_file(target.with_name(target.name + ".sha256"))
        checksum.write_text(f"{sha256_of(target)}  {target.name}\n")
        self.stdout.write(f"backup written and checked: {target}")

    def _folder(self, to: str | None) -> Path:
        folder = Path(to) if to else settings.DATA_DIR / "backups"
        if folder.exists() and not folder.is_dir():
            raise CommandError(f"{folder} is a file, not a folder: name a folder for the copy.")
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if to is None:
                folder.chmod(0o700)  # ours; a folder given with --to is the operator's
        except OSError as error:
            raise CommandError(
                f"The folder {folder} cannot be made or used: {error.strerror or error}."
            ) from error
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CommandError(f"The folder {folder} cannot be written to.")
        return folder

    def _sqlite(self, target: Path) -> None:
        source = sqlite3.connect(settings.DATABASES["default"]["NAME"], isolation_level=None)
        try:
            # One read transaction: the snapshot and the copy see the same moment.
            source.execute("BEGIN")
            expected = sqlite_snapshot(source)
            copy = sqlite3.connect(private_file(target))  # its journal takes the file's mode
            with copy:
                source.backup(copy)
            copy.close()
            source.execute("COMMIT")
        finally:
            source.close()
        check_sqlite_copy(target, expected)

    def _postgres(self, target: Path) -> None:
        installed = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
        pg_dump = installed[-1] if installed else shutil.which("pg_dump")
        if not pg_dump:
            raise CommandError("pg_dump is not installed (Debian: postgresql-client).")
        restore = str(Path(pg_dump).with_name("pg_restore"))
        db = settings.DATABASES["default"]
        url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env = {"PGPASSWORD": db.get("PASSWORD") or ""}
        private_file(target)  # pg_dump writes into it, keeping the mode
        with transaction.atomic(), connection.cursor() as cursor:
            # pg_dump takes the very snapshot in which the rows are counted.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            expected = postgres_snapshot(cursor)
            # The programs and arguments are ours; nothing comes from a request.
            subprocess.run(  # noqa: S603
                [pg_dump, "-Fc", f"--snapshot={snapshot_id}", "-f", str(target), url],
                check=True,
                env=env,
            )
        problems = differences(expected, dump_contents(restore, target))
        if problems:
            raise CommandError(f"The dump does not match the database: {'; '.join(problems)}.")


def postgres_snapshot(cursor) -> Snapshot:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    tables = [name for (name,) in cursor.fetchall()]
    snapshot = Snapshot(schema={f"table {name}": "" for name in tables})
    for name in tables:
        quoted = '"' + name.replace('"', '""') + '"'
        cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608  (names from pg_tables)
        snapshot.rows[name] = cursor.fetchone()[0]
    return snapshot


def dump_contents(restore: str, target: Path) -> Snapshot:
    """The tables a pg_dump archive lists and the rows its data holds for each (one line a row
    in COPY's text format, where a newline inside a value is written as \\n)."""
    listed = subprocess.run(  # noqa: S603
        [restore, "-l", str(target)], capture_output=True, text=True, check=True
    ).stdout
    found = Snapshot()
    for line in listed.splitlines():
        parts = line.split()  # "215; 1259 16390 TABLE public accounts_user owner"
        if len(parts) >= 7 and parts[3] == "TABLE" and parts[4] != "DATA":
            found.schema[f"table {parts[5]}"] = ""
    data = subprocess.Popen(  # noqa: S603
        [restore, "--data-only", "-f", "-", str(target)], stdout=subprocess.PIPE, text=True
    )
    table = None
    for line in data.stdout:
        if table is None and line.startswith("COPY "):
            table = line.split()[1].split(".")[-1].strip('"')
            found.rows[table] = 0
        elif table is not None:
            if line.rstrip("\n") == "\\.":
                table = None
            else:
                found.rows[table] += 1
    if data.wait() != 0:
        raise CommandError("pg_restore could not read the dump back.")
    return found
