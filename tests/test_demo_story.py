"""The demo tells the report's story in time: a process that began with the letter years ago,
entered after the fact, and is still going on, so every page a newcomer opens makes sense."""

import io
from datetime import date

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from uphold.accounts.models import User
from uphold.demands.models import LetterVersion
from uphold.people.queries import informing_view
from uphold.processes.models import Process
from uphold.processes.sample import story_day
from uphold.record import reminders
from uphold.record.health import health_of
from uphold.record.models import Entry, Meeting, Step
from uphold.web import demo

from .conftest import log_in


def build_demo() -> Process:
    call_command("demo", no_serve=True, stdout=io.StringIO())
    return Process.objects.get(code="kestrel")


def contact_client(role: str = "contact") -> Client:
    account = next(a for a in demo.load_accounts() if a["role"] == role)
    return log_in(Client(), User.objects.get(username=account["username"]), account["password"])


def test_the_demo_began_with_the_letter_and_came_to_uphold_today(db, demo_mode):
    process = build_demo()
    today = timezone.localdate()
    assert process.began_on == story_day(date(2015, 6, 1))
    assert (today - process.began_on).days > 4 * 365  # the report's four and a half years
    sent = LetterVersion.objects.get(process=process, sent=True)
    assert sent.handed_over_on == process.began_on
    page = contact_client().get(reverse("process", args=["kestrel"])).content.decode()
    assert date_format(process.began_on, "DATE_FORMAT") in page
    assert "Kept in Uphold since" in page and date_format(today, "DATE_FORMAT") in page


def test_everything_in_the_demo_happened_between_its_beginning_and_today(db, demo_mode):
    process = build_demo()
    today = timezone.localdate()
    entries = Entry.objects.filter(process=process).values_list("occurred_on", flat=True)
    agreed = Step.objects.filter(process=process).values_list("agreed_on", flat=True)
    assert entries and all(process.began_on <= day <= today for day in entries)
    assert agreed and all(process.began_on <= day <= today for day in agreed)
    past = Meeting.objects.filter(process=process, planned_at__date__lte=today)
    ahead = Meeting.objects.filter(process=process, planned_at__date__gt=today)
    assert past.count() == 5 and ahead.count() == 1  # the report's five, and the next one
    # Only the group's own step after his refusal is open, and overdue by days, not years.
    open_steps = Step.objects.filter(process=process, status="open")
    assert [step.owner for step in open_steps] == ["group"]
    assert 0 < (today - open_steps[0].due_on).days < 60


def test_the_demos_health_is_the_reports_and_its_worker_has_reminders_to_send(db, demo_mode):
    process = build_demo()
    today = timezone.localdate()
    health = health_of(process, today)
    assert (health.meetings_held, health.meetings_missed) == (3, 2)
    # His last reply was his refusal of the programmes, weeks ago: not the years since 2019.
    assert health.last_reply_on == story_day(date(2019, 11, 15))
    assert health.days_since_reply < 60
    # The year-long silence after the missed December meeting, as in the report.
    assert 300 < health.longest_silence < 500
    kinds = {reminder.kind for reminder in reminders.occasions(process, today)}
    assert kinds == {"silence", "step_overdue"}


def test_the_demos_people_show_that_x_informed_no_one_himself(db, demo_mode):
    """The report: the group informed his partner and friends, friends stayed "neutral", and
    the new political group he joined was never told: demand 2 is open, and says why."""
    process = build_demo()
    view = informing_view(process)
    assert view.by_x == 0 and view.by_group >= 1 and not view.met
    page = contact_client().get(reverse("informing", args=[process.code])).content.decode()
    uninformed = page.split('id="uninformed-heading"')[1].split("</section>")[0]
    assert "His new political group" in uninformed
    others = page.split('id="others-heading"')[1].split("</section>")[0]
    assert "His partner at the time" in others and "not by X" in others
    assert "This follows demand 2." in page
    friend = contact_client().get(reverse("people", args=[process.code])).content.decode()
    assert "hostile to the demands" in friend and "“neutral”" in friend
    demand = reverse("demand", args=[process.code, 2])
    assert "Informing the people around him" in contact_client().get(demand).content.decode()
    assert "Informing the people" not in contact_client("respondent").get(demand).content.decode()


def test_the_demos_referral_is_the_reports_researched_by_the_group_and_refused(db, demo_mode):
    from uphold.programmes.models import Referral
    from uphold.programmes.queries import referral_figures

    process = build_demo()
    figures = referral_figures(process)
    assert (figures["researched_by_group"], figures["researched_by_x"]) == (1, 0)
    assert figures["by_status"]["refused"] == 1 and figures["contact_route_passed"] == 1
    referral = Referral.objects.get(process=process)
    assert referral.status_on == story_day(date(2019, 11, 15))
    page = contact_client().get(reverse("referral", args=["kestrel", referral.pk]))
    text = page.content.decode()
    assert "considers himself different from the other perpetrators" in text
    assert "the group doing it for him is the responsibility-shifting" in text


def test_the_demo_has_released_a_report_back_and_an_update(db, demo_mode):
    from uphold.reports.models import ReleasedReport

    build_demo()
    page = contact_client("community").get("/p/kestrel/reports/released/").content.decode()
    assert "Report-back on process kestrel" in page
    assert set(ReleasedReport.objects.values_list("kind", "scope")) == {
        ("report-back", "community"),
        ("survivor-update", "survivor"),
    }
