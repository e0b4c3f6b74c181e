"""Reminders for the contact group: worked out from clear columns, made once per occasion,
delivered exactly once by whichever worker claims them.

- `scan` inserts one Reminder row per occasion. The occasion's key is unique per process, so
  running it twice, or in two workers at once, adds nothing.
- `deliver` claims one row at a time under a row lock (skipped by other workers), with a lease.
  A worker killed mid-send leaves its row claimed until the lease ends; then another worker
  sends it. Each email carries a Message-ID made from the row, the same on every attempt.
- The text names the process code, a kind and a number of days: never a name or a narrative,
  since the worker holds no keys.
"""

import contextlib
import os
import socket
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import formats, timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from uphold.accounts.models import User
from uphold.processes.models import Process, ProcessState, Role

from .health import health_of
from .models import DeliveryState, Entry, Meeting, Reminder, ReminderKind, Step, StepStatus

MEETING_SOON_DAYS = 3
QUIET_DAYS = 30
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{get_random_string(6)}"


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "UPHOLD_REMINDER_LEASE_SECONDS", 300))


def occasions(process: Process, today: date, health=None) -> list[Reminder]:
    """Every reminder due for a process today, unsaved; the same day gives the same keys.
    `health` is the process's contact health today, if the caller has it already."""
    found = []

    def add(kind: str, key: str, days: int, on: date | None = None) -> None:
        found.append(Reminder(process=process, kind=kind, key=key, days=days, on=on))

    health = health or health_of(process, today)
    waiting = health.days_waiting(today)
    threshold = process.reply_reminder_days
    if waiting is not None and waiting >= threshold:
        # Again after each further stretch of the threshold: 21, 42, 63 days.
        rounds = waiting // threshold
        add(ReminderKind.SILENCE, f"silence:{health.waiting_from}:{rounds}", waiting)
    late = today - timedelta(days=process.step_overdue_days)
    for pk, due_on in Step.objects.filter(
        process=process, status=StepStatus.OPEN, due_on__lte=late
    ).values_list("pk", "due_on"):
        add(ReminderKind.STEP_OVERDUE, f"step:{pk}:{due_on}", (today - due_on).days, due_on)
    for pk, planned_at in Meeting.objects.filter(process=process, outcome="").values_list(
        "pk", "planned_at"
    ):
        day = timezone.localtime(planned_at).date()
        if 0 <= (day - today).days <= MEETING_SOON_DAYS:
            add(ReminderKind.MEETING_SOON, f"soon:{pk}:{day}", (day - today).days, day)
        elif day < today:
            add(ReminderKind.NO_OUTCOME, f"outcome:{pk}:{day}", (today - day).days, day)
    update = _update_due(process, today)
    if update is not None:
        since, days, rounds = update
        add(ReminderKind.SURVIVOR_UPDATE, f"update:{since}:{rounds}", days, since)
    last = Entry.objects.filter(process=process).aggregate(at=Max("created_at"))["at"]
    since = timezone.localtime(last or process.created_at).date()
    if (today - since).days >= QUIET_DAYS:
        add(ReminderKind.QUIET, f"quiet:{since}", (today - since).days, since)
    return found


def _update_due(process: Process, today: date) -> tuple[date, int, int] | None:
    """(since, days, rounds) when an update for the survivor's side is due at the rhythm they
    chose: a month or three after the last one released (or after the process began), and
    again after each further stretch. None for "never" and "only when I ask"."""
    from uphold.reports.models import ReleasedReport, ReportKind
    from uphold.survivor.models import RHYTHM_DAYS, Preferences

    rhythm = Preferences.objects.filter(process=process).values_list("rhythm", flat=True).first()
    period = RHYTHM_DAYS.get(rhythm)
    if period is None:
        return None
    last = ReleasedReport.objects.filter(
        process=process, kind=ReportKind.SURVIVOR_UPDATE
    ).aggregate(at=Max("released_at"))["at"]
    since = timezone.localtime(last).date() if last else process.began_on
    days = (today - since).days
    if days < period:
        return None
    return since, days, days // period


def scan(today: date | None = None) -> int:
    """Adds the reminders due today to the outbox; returns how many were new."""
    today = today or timezone.localdate()
    added = 0
    for process in Process.objects.filter(state=ProcessState.ACTIVE):
        rows = occasions(process, today)
        before = Reminder.objects.filter(process=process).count()
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
        added += Reminder.objects.filter(process=process).count() - before
    return added


def claim(worker_id: str = WORKER_ID) -> Reminder | None:
    """The oldest reminder no one is sending, leased to this worker; None if there is none."""
    now = timezone.now()
    free = Q(state=DeliveryState.PENDING, lease_until__isnull=True) | Q(
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING], lease_until__lte=now
    )
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True).filter(free).order_by("pk").first()
        )
        if reminder is None:
            return None
        Reminder.objects.filter(pk=reminder.pk).update(
            state=DeliveryState.SENDING,
            claimed_by=worker_id,
            lease_until=now + lease(),
            attempts=F("attempts") + 1,
        )
    return Reminder.objects.select_related("process").get(pk=reminder.pk)


def text_of(reminder: Reminder) -> tuple[str, str]:
    """Subject and body in the active language, from clear fields only."""
    days = reminder.days or 0
    on = formats.date_format(reminder.on, "DATE_FORMAT") if reminder.on else ""
    values = {"code": reminder.process.code, "days": days, "on": on}
    subjects = {
        ReminderKind.SILENCE: ngettext(
            "Process %(code)s: no reply for %(days)s day",
            "Process %(code)s: no reply for %(days)s days",
            days,
        ),
        ReminderKind.STEP_OVERDUE: ngettext(
            "Process %(code)s: a step is %(days)s day overdue",
            "Process %(code)s: a step is %(days)s days overdue",
            days,
        ),
        ReminderKind.MEETING_SOON: _("Process %(code)s: a meeting on %(on)s"),
        ReminderKind.NO_OUTCOME: _("Process %(code)s: a meeting on %(on)s has no outcome"),
        ReminderKind.QUIET: ngettext(
            "Process %(code)s: nothing logged for %(days)s day",
            "Process %(code)s: nothing logged for %(days)s days",
            days,
        ),
        ReminderKind.SURVIVOR_UPDATE: ngettext(
            "Process %(code)s: an update for the survivor's side is due, %(days)s day after the "
            "last",
            "Process %(code)s: an update for the survivor's side is due, %(days)s days after the "
            "last",
            days,
        ),
    }
    subject = subjects[reminder.kind] % values
    body = "\n\n".join(
        [
            subject + ".",
            _("Log in to Uphold to see the details."),
            _("This reminder carries no details on purpose."),
        ]
    )
    return subject, body


def recipients(process: Process, kind: str = ReminderKind.SILENCE):
    """The contact group; for an update due to the survivor's side, the support group too (the
    contact group prepares it, the support group releases it)."""
    roles = [Role.CONTACT, Role.SUPPORT] if kind == ReminderKind.SURVIVOR_UPDATE else [Role.CONTACT]
    return (
        User.objects.filter(
            memberships__process=process, memberships__role__in=roles, is_active=True
        )
        .exclude(email="")
        .distinct()
    )


def message_id(reminder: Reminder) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "uphold"
    return f"<uphold-reminder-{reminder.process.code}-{reminder.pk}@{domain}>"


def messages_of(reminder: Reminder, users: list[User]) -> list[EmailMessage]:
    messages = []
    for user in users:
        with translation.override(user.language):
            subject, body = text_of(reminder)
        messages.append(
            EmailMessage(
                subject, body, to=[user.email], headers={"Message-ID": message_id(reminder)}
            )
        )
    return messages


def deliver(worker_id: str = WORKER_ID, limit: int | None = None) -> int:
    """Sends claimed reminders until none is left (or `limit`); returns how many were sent.

    One SMTP connection serves the whole run, and a reminder is marked sent the moment the
    server has accepted it: the span in which a dying worker leaves a sent reminder unmarked
    is one database write, not a connection's goodbye as well.
    """
    sent = 0
    connection = None
    users_of: dict[tuple, list[User]] = {}  # each process's recipients, once per run
    try:
        while limit is None or sent < limit:
            reminder = claim(worker_id)
            if reminder is None:
                break
            whom = (reminder.process_id, reminder.kind == ReminderKind.SURVIVOR_UPDATE)
            if whom not in users_of:
                users_of[whom] = list(recipients(reminder.process, reminder.kind))
            messages = messages_of(reminder, users_of[whom])
            try:
                if messages:
                    if connection is None:
                        connection = get_connection(fail_silently=False, timeout=60)
                        connection.open()
                    connection.send_messages(messages)
            except Exception as error:  # the mail server is down: try again later
                Reminder.objects.filter(pk=reminder.pk, claimed_by=worker_id).update(
                    state=DeliveryState.PENDING,
                    lease_until=timezone.now() + lease(),
                    last_error=type(error).__name__[:200],
                )
                break
            Reminder.objects.filter(
                pk=reminder.pk, claimed_by=worker_id, state=DeliveryState.SENDING
            ).update(state=DeliveryState.SENT, sent_at=timezone.now(), last_error="")
            sent += 1
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):  # a broken connection has nothing to close
                connection.close()
    return sent


def recent(process: Process, days: int = 30) -> list[Reminder]:
    """The in-app list: reminders of the last `days` days."""
    since = timezone.now() - timedelta(days=days)
    return list(
        Reminder.objects.filter(process=process, created_at__gte=since).select_related("process")[
            :20
        ]
    )
