"""`uphold verify`: checks every process's audit chain without any key; names the first break.

With `--user NAME` (a support or contact member), also checks the chain head sealed under
each of their processes' `record` key, which catches a chain rewritten by a database writer.
"""

from django.core.management.base import CommandError, CommandParser

from uphold.audit.services import verify, verify_with_key
from uphold.crypto import keyring
from uphold.lib.commands import MemberCommand
from uphold.processes.models import Process


class Command(MemberCommand):
    help = "Verify the audit chain of every process. Exits non-zero at a broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", default=None, help="a member whose keys also check the sealed chain head"
        )

    def handle(self, *args, user: str | None, **options) -> None:
        actor = self.actor(user) if user else None
        member_of = set(actor.memberships.values_list("process_id", flat=True)) if actor else set()
        broken = 0
        for process in Process.objects.order_by("code"):
            problem = verify(process)
            if problem is None and process.pk in member_of:
                problem = verify_with_key(keyring.current(), process)
            if problem:
                broken += 1
                self.stderr.write(
                    f"{problem.process_code}: event {problem.seq} (row id {problem.event_id}) "
                    f"{problem.reason}"
                )
            else:
                count = process.audit_events.count()
                sealed = " and its sealed head" if process.pk in member_of else ""
                self.stdout.write(f"{process.code}: {count} events, chain{sealed} intact")
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken")
