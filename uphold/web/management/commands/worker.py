"""`uphold worker`: runs background tasks (reminders, notices) from the database queue.

Beside django-tasks-db's worker loop, a small timer puts the reminder task on the queue every
`--remind-every` seconds. Several workers may run: each task runs once, and each reminder is
claimed by one worker (see uphold/record/reminders.py).
"""

import logging
import threading

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

logger = logging.getLogger("uphold.worker")


def _every(seconds: float, stop: threading.Event) -> None:
    from uphold.record.tasks import send_reminders

    while not stop.is_set():
        try:
            send_reminders.enqueue()
        except Exception:  # a locked or restarting database: try again next time
            logger.exception("could not queue the reminder task; trying again later")
        finally:
            close_old_connections()
        stop.wait(seconds)


class Command(DatabaseWorker):
    help = "Run Uphold's background tasks. Several workers may run; each task runs once."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--remind-every",
            type=float,
            default=300.0,
            help="Seconds between looking for due reminders; 0 turns the timer off.",
        )

    def handle(self, *args, remind_every: float, **options) -> None:
        stop = threading.Event()
        if remind_every > 0 and options.get("batch"):
            # One pass and out (e.g. from cron): look for reminders once, first.
            from uphold.record.tasks import send_reminders

            send_reminders.enqueue()
        elif remind_every > 0:
            threading.Thread(target=_every, args=(remind_every, stop), daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
