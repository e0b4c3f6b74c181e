"""`uphold stats CODE --user NAME [--json]`: where the process stands, in figures
(docs/stats.md says what each one means)."""

import json

from django.core.management.base import CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.figures import figures_for
from uphold.lib.commands import MemberCommand


class Command(MemberCommand):
    help = "Print a process's figures: messages, silences, meetings, steps, informing, demands."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("code", help="the process's code name")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print them as JSON"
        )

    def handle(self, *args, code: str, user: str, as_json: bool = False, **options) -> None:
        found = figures_for(self.actor(user), code, timezone.localdate()).as_json()
        if as_json:
            self.stdout.write(json.dumps(found, indent=2, ensure_ascii=False))
            return
        for key, value in found.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}: {v}" for k, v in value.items()) or _("none")
            self.stdout.write(f"{key}\t{'—' if value is None else value}")
