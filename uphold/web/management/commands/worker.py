"""`uphold worker`: runs background tasks (reminders, notices) from the database queue.

Beside django-tasks-db's worker loop, small timers put the reminder task on the queue every
`--remind-every` seconds, and the removal of uploads left unfinished for a day every
`--clean-every` seconds. Several workers may run: each task runs once, and each reminder is
claimed by one worker (see uphold/record/reminders.py).
"""

import logging
import threading

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

from uphold.lib import commands
from uphold.lib.commands import UpholdCommand, whole_number

logger = logging.getLogger("uphold.worker")
WEEK = 7 * 24 * 3600  # the longest timer: a longer wait is a mistake, and inf stops the thread


def _every(task, seconds: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            task.enqueue()
        except Exception:  # a locked or restarting database: try again next time
            logger.exception("could not queue %s; trying again later", task.name)
        finally:
            close_old_connections()
        stop.wait(seconds)


class Command(UpholdCommand, DatabaseWorker):
    help = "Run Uphold's background tasks. Several workers may run; each task runs once."

    needs_database = True

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        # django-tasks-db's own number options, refused in the same plain words as ours.
        own = {"interval": commands.seconds(maximum=WEEK), "max_tasks": whole_number(1)}
        for action in parser._actions:
            action.type = own.get(action.dest, action.type)
        parser.add_argument(
            "--remind-every",
            type=commands.seconds(least=0.1, maximum=WEEK, off=True),
            default=300.0,
            help="Seconds between looking for due reminders (0.1 to 604800); 0 turns it off.",
        )
        parser.add_argument(
            "--clean-every",
            type=commands.seconds(least=0.1, maximum=WEEK, off=True),
            default=3600.0,
            help=(
                "Seconds between removing uploads left unfinished for more than a day "
                "(0.1 to 604800); 0 turns the timer off."
            ),
        )

    def handle(self, *args, remind_every: float, clean_every: float, **options) -> None:
        from uphold.attachments.tasks import remove_stale_uploads
        from uphold.record.tasks import send_reminders

        stop = threading.Event()
        for task, seconds in ((send_reminders, remind_every), (remove_stale_uploads, clean_every)):
            if seconds <= 0:
                continue
            if options.get("batch"):
                task.enqueue()  # one pass and out (e.g. from cron): queue it once, first
            else:
                threading.Thread(target=_every, args=(task, seconds, stop), daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
