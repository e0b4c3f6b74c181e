"""`uphold verify`: checks every process's audit chain without any key; names the first break.
It also checks who holds which key: every sealed key and calendar link must belong to a current
member whose role reads its scope; each one outside its role is named.

With `--user NAME` (a support or contact member), also checks the chain head sealed under
each of their processes' `record` key, which catches a chain rewritten by a database writer,
and that every key row of the scopes they hold was made by a holder of that key.
"""

from django.core.management.base import CommandError, CommandParser

from uphold.audit.services import verify, verify_with_key
from uphold.crypto import keyring
from uphold.lib.commands import MemberCommand
from uphold.processes.keycheck import keys_outside_roles
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
            ring = keyring.current() if process.pk in member_of else None
            problem = verify(process)
            if problem is None and ring is not None:
                problem = verify_with_key(ring, process)
            if problem:
                self.stderr.write(
                    f"{problem.process_code}: event {problem.seq} (row id {problem.event_id}) "
                    f"{problem.reason}"
                )
            strays = keys_outside_roles(process, ring)
            for stray in strays:
                self.stderr.write(
                    f"{process.code}: {stray.scope} key: {stray.username} {stray.reason}"
                )
            if problem or strays:
                broken += 1
            else:
                count = process.audit_events.count()
                sealed = " and its sealed head" if ring is not None else ""
                self.stdout.write(
                    f"{process.code}: {count} events, chain{sealed} intact, keys held by role"
                )
        if broken:
            raise CommandError(
                f"{broken} process(es) with a broken chain or a key outside its role"
            )
