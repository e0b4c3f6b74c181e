"""`uphold mail-import CODE FILE... --user NAME`: brings .eml and .mbox files into a process's
log, as the Mail page does: a summary first, then every new message at once, or none."""

import sys
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from uphold.lib.commands import MemberCommand
from uphold.mailin import parse, services
from uphold.mailin.models import ItemStatus

CHUNK = 1024 * 1024
LISTED = 50


class Files:
    """The files, read in chunks; how far through them the reading is, for the progress bar."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.total = sum(p.stat().st_size for p in paths) or 1
        self.done = 0

    def messages(self) -> Iterator[parse.Raw]:
        self.done = 0
        return parse.numbered(self._chunks(p) for p in self.paths)

    def _chunks(self, path: Path) -> Iterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                self.done += len(chunk)
                yield chunk


class Command(MemberCommand):
    help = (
        "Import .eml and .mbox files into a process's log: a summary first, then every new "
        "message, all or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("code", help="the process's code name")
        parser.add_argument("files", nargs="+", help="the .eml or .mbox files")
        parser.add_argument(
            "--yes", action="store_true", help="import without asking, after the summary"
        )

    def handle(self, *args, code: str, files: list[str], user: str, yes: bool, **options):
        actor = self.actor(user)
        paths = [Path(f) for f in files]
        for path in paths:
            if not path.is_file():
                raise CommandError(_("There is no file %(name)s.") % {"name": path})
        reading = Files(paths)
        summary = services.summarise(actor, code, reading.messages(), self._bar(reading))
        self._end_bar()
        self._report(summary)
        new = summary.counts[ItemStatus.NEW]
        if new == 0:
            self.stdout.write(_("Nothing new to import. Nothing was changed."))
            return
        if not yes and not self._agreed(new):
            self.stdout.write(_("Nothing was imported."))
            return
        try:
            batch = services.import_stream(
                actor, code, reading.messages(), summary.counts, progress=self._bar(reading)
            )
        except services.Conflict as conflict:
            raise CommandError(
                _(
                    "The messages no longer sort as the summary said (an address or another "
                    "import changed meanwhile). Nothing was imported; run the command again."
                )
            ) from conflict
        finally:
            self._end_bar()
        self.stdout.write(
            _(
                "%(n)s messages are in the log of %(code)s now. The import can be undone for "
                "a day, on the Mail page."
            )
            % {"n": batch.counts["imported"], "code": code}
        )

    def _report(self, summary: services.Summary) -> None:
        counts = summary.counts
        self.stdout.write(
            _(
                "%(new)s new, %(present)s already in the log, %(unmatched)s matching no party "
                "(left out), %(unreadable)s unreadable."
            )
            % counts
        )
        shown = summary.listed[:LISTED]
        for scanned in shown:
            self.stdout.write(f"  {scanned.number}: {_describe(scanned)}")
        more = sum(counts.values()) - counts[ItemStatus.NEW] - len(shown)
        if more > 0:
            self.stdout.write(_("  … and %(n)s more.") % {"n": more})

    def _agreed(self, new: int) -> bool:
        if not sys.stdin or not sys.stdin.isatty():
            raise CommandError(
                _("Add --yes to import without being asked (there is no terminal to ask at).")
            )
        answer = input(_("Import %(n)s new messages? [y/N] ") % {"n": new})
        return answer.strip().lower() in {"y", "yes", "j", "ja"}

    def _bar(self, reading: Files):
        stream = self.stderr

        def show(number: int) -> None:
            if number % 20:
                return
            share = min(1.0, reading.done / reading.total)
            filled = int(share * 30)
            stream.write(
                f"\r[{'#' * filled}{' ' * (30 - filled)}] {share:4.0%} · "
                + _("%(n)s messages") % {"n": number},
                ending="",
            )

        return show

    def _end_bar(self) -> None:
        self.stderr.write("")


def _describe(scanned: services.Scanned) -> str:
    if scanned.status == ItemStatus.UNREADABLE:
        return _("unreadable: %(why)s") % {"why": scanned.reason}
    label = scanned.label()
    if scanned.status == ItemStatus.PRESENT:
        if scanned.present:
            return _("already in the log (entry %(entry)s): %(label)s") % {
                "entry": scanned.present,
                "label": label,
            }
        return _("a second copy of message %(n)s: %(label)s") % {
            "n": scanned.present_number,
            "label": label,
        }
    return _("matches no party: %(label)s") % {"label": label}
