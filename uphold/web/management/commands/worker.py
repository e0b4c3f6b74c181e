"""`uphold worker`: runs background tasks (reminders, scheduled mail) from the database queue."""

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker


class Command(DatabaseWorker):
    help = "Run Uphold's background tasks. Several workers may run; each task runs once."
