"""Background work for the record, run by `uphold worker`."""

from django_tasks import task

from . import reminders


@task()
def send_reminders() -> int:
    """Finds what is due, then sends whatever no other worker is sending."""
    reminders.scan()
    return reminders.deliver()
