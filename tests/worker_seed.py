"""Run in a subprocess against the database of a worker test: a process with one contact
member who has an email address, and `n` reminders due."""

import sys


def seed(n: int) -> None:
    import django

    django.setup()
    from uphold.accounts.models import User
    from uphold.processes.models import Membership, Process, Role
    from uphold.record.models import Reminder, ReminderKind

    process = Process.objects.create(code="wren", is_sample=True)
    user = User.objects.create(username="wren-contact", email="contact@example.org")
    Membership.objects.create(process=process, user=user, role=Role.CONTACT)
    Reminder.objects.bulk_create(
        Reminder(process=process, kind=ReminderKind.STEP_OVERDUE, key=f"step:{i}", days=i)
        for i in range(n)
    )


if __name__ == "__main__":
    seed(int(sys.argv[1]))
