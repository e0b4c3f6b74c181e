"""`uphold verify`: checks every process's audit chain without any key; names the first break."""

from django.core.management.base import BaseCommand, CommandError

from uphold.audit.services import verify
from uphold.processes.models import Process


class Command(BaseCommand):
    help = "Verify the audit chain of every process. Exits non-zero at a broken link."

    def handle(self, *args, **options) -> None:
        broken = 0
        for process in Process.objects.order_by("code"):
            problem = verify(process)
            if problem:
                broken += 1
                self.stderr.write(
                    f"{problem.process_code}: event {problem.seq} (row id {problem.event_id}) "
                    f"{problem.reason}"
                )
            else:
                count = process.audit_events.count()
                self.stdout.write(f"{process.code}: {count} events, chain intact")
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken")
