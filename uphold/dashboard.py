"""What the overview page shows those who read the record: where the process stands in five
seconds. Every number comes from `uphold.figures.figures`; this module adds only what the page
lists (the alerts of the reminder rules, the circles nobody has informed, the latest entries),
each a bounded number of rows, so the page costs the same however long the record is."""

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from uphold.crypto.keyring import opened
from uphold.demands.models import Status
from uphold.figures import Figures, figures
from uphold.lib.choices import label
from uphold.people.queries import Standing, informing_view
from uphold.processes.models import Process
from uphold.record import queries as record
from uphold.record import reminders
from uphold.record.health import Health, health_of
from uphold.record.models import Owner, ReminderKind, StepStatus
from uphold.record.queries import OVERDUE

LATEST = 5  # entries listed
UNINFORMED_LISTED = 5  # circles and partners named
STEP_COLUMNS = (StepStatus.DONE, StepStatus.MISSED, StepStatus.OPEN)


@dataclass(frozen=True)
class Alert:
    text: str
    url: str


@dataclass(frozen=True)
class Dashboard:
    figures: Figures
    health: Health
    alerts: list[Alert]
    uninformed: list[dict]  # the first UNINFORMED_LISTED: person, name (None if locked)
    latest: list[dict]  # entry, summary (None if locked)

    @property
    def demands(self) -> list[tuple[int, str, str]]:
        """(number, status code, status in words) of each demand."""
        return [(n, code, label(Status, code)) for n, code in self.figures.demand_status.items()]

    @property
    def steps(self) -> list[dict]:
        """Per owner, how many steps are done, missed, open and overdue (open, day passed):
        (code, label, number) each."""
        f = self.figures
        return [
            {
                "owner": owner,
                "name": name,
                "counts": [
                    *((s, s.label, f.steps_of(owner, s)) for s in STEP_COLUMNS),
                    (OVERDUE, _("overdue"), f.steps_overdue.get(owner, 0)),
                ],
            }
            for owner, name in ((Owner.X, "respondent"), (Owner.GROUP, "group"))
        ]


def dashboard(process: Process, today: date) -> Dashboard:
    health = health_of(process, today)
    view = informing_view(process)
    return Dashboard(
        figures=figures(process, today, health=health),
        health=health,
        alerts=[_alert(process, r) for r in reminders.occasions(process, today, health=health)]
        + _asked(process),
        uninformed=[
            {"person": row["person"], "name": opened(lambda p=row["person"]: p.name)}
            for row in view.groups[Standing.UNINFORMED][:UNINFORMED_LISTED]
        ],
        latest=[
            {"entry": e, "summary": opened(lambda e=e: e.summary)}
            for e in record.entries(process, limit=LATEST)
        ],
    )


def _asked(process: Process) -> list[Alert]:
    """The survivor's side's requests for an item that wait for the contact group's answer."""
    from uphold.survivor.models import ItemRequest, RequestState

    waiting = ItemRequest.objects.filter(process=process, state=RequestState.OPEN).count()
    if not waiting:
        return []
    text = ngettext(
        "The survivor's side asked to read %(n)s item: it waits for an answer",
        "The survivor's side asked to read %(n)s items: they wait for an answer",
        waiting,
    ) % {"n": waiting}
    return [Alert(text, reverse("item-requests", args=[process.code]))]


def _alert(process: Process, reminder) -> Alert:
    """A reminder rule's occasion, in the words of its email, linked to what it is about."""
    subject, _body = reminders.text_of(reminder)
    code = process.code
    # A step's or a meeting's occasion is keyed "step:ID:…" or "soon:ID:…" (reminders.py).
    pk = reminder.key.split(":")[1]
    if reminder.kind == ReminderKind.STEP_OVERDUE:
        url = reverse("step", args=[code, int(pk)])
    elif reminder.kind in (ReminderKind.MEETING_SOON, ReminderKind.NO_OUTCOME):
        url = reverse("meeting", args=[code, int(pk)])
    elif reminder.kind == ReminderKind.SURVIVOR_UPDATE:
        url = reverse("reports", args=[code]) + "?kind=survivor-update"
    elif reminder.kind == ReminderKind.SILENCE:
        url = reverse("log", args=[code]) + "?show=to_x"
    else:
        url = reverse("log", args=[code])
    return Alert(subject, url)
