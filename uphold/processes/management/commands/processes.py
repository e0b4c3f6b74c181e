"""`uphold processes --user NAME`: the processes a member belongs to, with their role."""

from uphold.lib.commands import MemberCommand
from uphold.processes.queries import memberships_of


class Command(MemberCommand):
    help = "List the processes you are a member of."

    def handle(self, *args, user: str, **options) -> None:
        actor = self.actor(user)
        for membership in memberships_of(actor):
            process = membership.process
            self.stdout.write(f"{process.code}\t{membership.role}\t{process.state}")
