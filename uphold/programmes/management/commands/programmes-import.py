"""`uphold programmes-import FILE --user NAME`: adds a CSV file's programmes to the directory,
all or none, as on the web page (docs/user-guide.md names the columns)."""

from pathlib import Path

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from uphold.lib.commands import MemberCommand
from uphold.programmes import csvimport


class Command(MemberCommand):
    help = "Import programmes into the shared directory from a CSV file (all or none)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("file", help="the CSV file, with a header row")

    def handle(self, *args, file: str, user: str, **options) -> None:
        actor = self.actor(user)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"There is no file {file}.")
        with path.open("rb") as handle:
            data = handle.read(csvimport.MAX_BYTES + 1)
        try:
            count = csvimport.import_file(actor, data)
        except csvimport.Refused as refused:
            lines = [_("Nothing was imported. Correct the file and try again.")]
            lines += [str(error) for error in refused.shown]
            if refused.more:
                lines.append(_("… and %(n)s more problems.") % {"n": refused.more})
            raise CommandError(" ".join(lines)) from refused
        self.stdout.write(_("%(count)s programmes were added to the directory.") % {"count": count})
