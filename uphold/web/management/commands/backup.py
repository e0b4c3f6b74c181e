"""`uphold backup`: a consistent copy of the database, checked before it is called done.

The copy holds what the database holds: ciphertext, never a key; it opens with members'
passwords like the original. SQLite uses its online backup (safe while Uphold runs) and an
integrity check of the copy; PostgreSQL uses pg_dump. A SHA-256 file sits beside each copy.
"""

import glob
import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone


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


class Command(BaseCommand):
    help = "Write a checked copy of the database (default: the data folder's backups/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", default=None, help="folder for the copy")

    def handle(self, *args, to: str | None, **options) -> None:
        folder = Path(to) if to else settings.DATA_DIR / "backups"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if to is None:
            folder.chmod(0o700)  # ours; a folder given with --to is the operator's
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        if connection.vendor == "sqlite":
            target = self._sqlite(folder / f"uphold-{stamp}.sqlite3")
        elif connection.vendor == "postgresql":
            target = self._postgres(folder / f"uphold-{stamp}.pgdump")
        else:
            raise CommandError(f"no backup for {connection.vendor}")
        target.chmod(0o600)
        checksum = private_file(target.with_name(target.name + ".sha256"))
        checksum.write_text(f"{sha256_of(target)}  {target.name}\n")
        self.stdout.write(f"backup written and checked: {target}")

    def _sqlite(self, target: Path) -> Path:
        source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        copy = sqlite3.connect(private_file(target))  # its journal takes the file's mode
        with copy:
            source.backup(copy)
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        copy.close()
        source.close()
        if result != "ok":
            target.unlink()
            raise CommandError(f"the copy failed its integrity check: {result}")
        return target

    def _postgres(self, target: Path) -> Path:
        installed = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
        pg_dump = installed[-1] if installed else shutil.which("pg_dump")
        if not pg_dump:
            raise CommandError("pg_dump is not installed (Debian: postgresql-client)")
        db = settings.DATABASES["default"]
        url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env = {"PGPASSWORD": db.get("PASSWORD") or ""}
        private_file(target)  # pg_dump writes into it, keeping the mode
        # The programs and arguments are ours; nothing comes from a request.
        subprocess.run([pg_dump, "-Fc", "-f", str(target), url], check=True, env=env)  # noqa: S603
        restore = str(Path(pg_dump).with_name("pg_restore"))
        listed = subprocess.run(  # noqa: S603
            [restore, "-l", str(target)], capture_output=True, text=True, check=True
        )
        if "TABLE DATA" not in listed.stdout:
            raise CommandError("the dump lists no table data")
        return target
