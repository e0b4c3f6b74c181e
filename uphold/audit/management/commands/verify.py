"""`uphold verify`: checks every process's audit chain without any key; names the first break.

Keyless, it checks that the chain is whole, that every row it names holds, column by column,
what it last recorded (dates, statuses, owners and links as well as ciphertexts), and that no
row of the record is missing from it. It also checks who holds which key: every sealed key and
calendar link must belong to a current member whose role reads its scope. And it folds each
log afresh into contact health: figures stored for the pages that say anything else were
changed outside Uphold; they are named, and folded again from the log (nothing else is lost).

With `--user NAME`, it also checks what that member's keys can check: every sealed value of the
scopes they hold must open, and (for members who hold the `record` key) the chain head sealed
under it, which catches a chain rewritten by a database writer. It says what it could not check
and why; that alone is no failure.
"""

from django.core.management.base import CommandError, CommandParser

from uphold.audit.services import Break, verify, verify_opens, verify_with_key
from uphold.crypto import keyring
from uphold.lib.commands import MemberCommand
from uphold.processes import scopes
from uphold.processes.keycheck import keys_outside_roles
from uphold.processes.models import Process
from uphold.record import health


class Command(MemberCommand):
    help = "Verify the audit chain of every process. Exits non-zero at a broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", default=None, help="a member whose keys also check what they can open"
        )

    def handle(self, *args, user: str | None, **options) -> None:
        actor = self.actor(user) if user else None
        memberships = (
            {m.process_id: m for m in actor.memberships.select_related("process")} if actor else {}
        )
        broken = 0
        for process in Process.objects.order_by("code"):
            membership = memberships.get(process.pk)
            ring = keyring.current() if membership else None
            problem = verify(process)
            checked: list[str] = []
            unchecked: list[str] = []
            if problem is None and membership is not None:
                problem = self._with_keys(ring, membership, process, checked, unchecked)
            if problem:
                self.stderr.write(_describe(problem))
            strays = keys_outside_roles(process, ring)
            for stray in strays:
                self.stderr.write(
                    f"{process.code}: {stray.scope} key: {stray.username} {stray.reason}"
                )
            figures = health.stored_differs(process)
            if figures:
                health.refold(process.pk)
                self.stderr.write(
                    f"{process.code}: the contact health figures stored for its pages did not "
                    "match its log (changed outside Uphold); they are folded again from the log"
                )
            if problem or strays or figures:
                broken += 1
                continue
            count = process.audit_events.count()
            self.stdout.write(
                f"{process.code}: {count} events, chain and every column intact, keys held by role"
            )
            for line in checked:
                self.stdout.write(f"{process.code}: checked {line}")
            for line in unchecked:
                self.stdout.write(f"{process.code}: not checked: {line}")
        if broken:
            raise CommandError(
                f"{broken} process(es) with a broken chain or a key outside its role"
            )

    def _with_keys(self, ring, membership, process, checked, unchecked) -> Break | None:
        held = set(scopes.scopes_of(membership))
        opened = verify_opens(ring, process, held)
        if opened.damaged:
            return opened.damaged
        names = ", ".join(sorted(held))
        checked.append(f"{opened.opened} sealed values of the scopes your role reads ({names})")
        if opened.without_key:
            unchecked.append(
                f"{opened.without_key} sealed values under a key you do not hold (given before "
                "you joined, or replaced since)"
            )
        if scopes.RECORD not in held:
            unchecked.append(
                f"the sealed chain head: it is sealed under the record key, which a "
                f"{membership.get_role_display()} member does not hold; a member of the support "
                "or contact group can check it"
            )
            return None
        problem = verify_with_key(ring, process)
        if problem is None:
            checked.append("the chain head sealed under the record key")
        return problem


def _describe(problem: Break) -> str:
    if problem.seq:
        return (
            f"{problem.process_code}: event {problem.seq} (row id {problem.event_id}) "
            f"{problem.reason}"
        )
    return f"{problem.process_code}: {problem.reason}"
