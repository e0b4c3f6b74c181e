"""`uphold rotate CODE --user NAME`: replace a process's keys, or finish an interrupted change."""

import sys

from django.core.management.base import CommandParser

from uphold.lib.commands import MemberCommand
from uphold.processes.services import rotate_keys


class Command(MemberCommand):
    help = "Replace every key you hold in a process (after a member left), or resume that."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("code", help="the process's code name")

    def handle(self, *args, code: str, user: str, **options) -> None:
        actor = self.actor(user)

        def progress(line: str) -> None:
            self.stdout.write(line)
            sys.stdout.flush()

        rotate_keys(actor, code, progress)  # a refusal reads as on the web (lib/commands.py)
