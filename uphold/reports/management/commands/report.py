"""`uphold report CODE --kind KIND --format FORMAT --out FILE --user NAME`: a report of the
process, made as the web page makes it, written to FILE (never over an existing file)."""

import os
import sys
from pathlib import Path

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.lib.commands import MemberCommand
from uphold.reports.models import ReportFormat, ReportKind
from uphold.reports.services import export


class Command(MemberCommand):
    help = "Write a report of a process (report-back, survivor update, retrospective) to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("code", help="the process's code name")
        parser.add_argument("--kind", required=True, choices=ReportKind.values)
        parser.add_argument("--format", required=True, choices=ReportFormat.values)
        parser.add_argument("--out", required=True, help="the file to write; must not exist")

    def handle(self, *args, code: str, kind: str, format: str, out: str, user: str, **options):
        path = Path(out)
        if path.exists() or path.is_symlink():
            raise CommandError(f"There is a file {out} already. Name another; nothing was written.")
        if not path.parent.is_dir():
            raise CommandError(f"There is no folder {path.parent}. Nothing was written.")
        actor = self.actor(user)

        def progress(line: str) -> None:
            self.stderr.write(line)
            sys.stderr.flush()

        made = export(actor, code, kind, format, timezone.localdate(), progress)
        # Made here, new, not through a link, readable by its owner only: it holds the record.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            handle = os.open(path, flags, 0o600)
        except FileExistsError as error:
            raise CommandError(f"There is a file {out} already. Nothing was written.") from error
        with os.fdopen(handle, "wb") as file:
            file.write(made.content)
        self.stdout.write(_("Written to %(file)s.") % {"file": out})
