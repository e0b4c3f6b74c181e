"""The record: contact health, the log, meetings, steps and confirmations to X."""

import hashlib
import re
import socket
from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from uphold.audit.models import AuditEvent
from uphold.audit.services import verify
from uphold.record import calendar, reminders, services
from uphold.record.health import compute, health_of
from uphold.record.models import (
    Confirmation,
    DeliveryState,
    Entry,
    EntryVersion,
    Meeting,
    Reminder,
    Step,
    StepChange,
)

from .conftest import MARK, database_state, with_token

DAY0 = date(2016, 1, 4)


def NEXT_DAY() -> date:
    """The next meeting in these tests: some months ahead of today, whenever they run."""
    return timezone.localdate() + timedelta(days=160)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


# Contact health on hand-made histories with known answers


def test_longest_silence_between_replies():
    events = [(day(n), "from_x", "message") for n in (0, 150, 520)]
    health = compute(events, {}, today=day(520))
    assert health.longest_silence == 370
    assert health.days_since_reply == 0
    assert health.unanswered == 0


def test_silence_and_reply_times_from_the_groups_messages():
    # The report: a letter, five months without an answer, two reminders, then a reply;
    # later a year of silence that is still going on.
    events = [
        (day(0), "to_x", "message"),
        (day(60), "to_x", "message"),
        (day(120), "to_x", "message"),
        (day(150), "from_x", "message"),
        (day(160), "to_x", "message"),
        (day(170), "from_x", "message"),
        (day(200), "to_x", "message"),
        (day(300), "to_x", "message"),
        (day(10), "none", "note"),
        (day(40), "to_circle", "conversation"),
    ]
    health = compute(events, {"done": 2, "missed": 3, "open": 1}, today=day(565))
    assert health.last_reply_on == day(170)
    assert health.days_since_reply == 395
    assert health.unanswered == 2
    assert health.waiting_from == day(200)
    assert health.longest_silence == 395  # from his last reply until today, still waiting
    assert health.median_reply_days == 80  # 150 days and 10 days
    assert (health.steps_done, health.steps_missed, health.steps_open) == (2, 3, 1)


def test_meetings_held_count_as_replies_and_missed_ones_do_not():
    events = [
        (day(0), "to_x", "message"),
        (day(30), "none", "meeting_missed"),
        (day(90), "none", "meeting_missed"),
        (day(100), "none", "meeting_held"),
    ]
    health = compute(events, {}, today=day(110))
    assert (health.meetings_held, health.meetings_missed) == (1, 2)
    assert health.days_since_reply == 10
    assert health.longest_silence == 100


def test_the_health_panel_counts_in_plurals_and_whole_days():
    from django.template.loader import render_to_string

    events = [
        (day(0), "to_x", "message"),
        (day(1), "from_x", "message"),  # replied after 1 day
        (day(2), "to_x", "message"),
        (day(4), "from_x", "message"),  # after 2 days: the median is 1.5, shown as 2
        (day(5), "to_x", "message"),
    ]
    health = compute(events, {}, today=day(5))
    assert health.median_reply_days == 2
    expected = {
        "en": [
            "<strong>1</strong>day since X last replied",
            "<strong>1</strong>message sent since, without a reply",
            "<strong>3</strong>days: the longest silence",
            "<strong>2</strong>days: median time to reply",
        ],
        "de": [
            "<strong>1</strong>Tag, seit X zuletzt geantwortet hat",
            "<strong>1</strong>seither gesendete Nachricht ohne Antwort",
            "<strong>3</strong>Tage: das längste Schweigen",
            "<strong>2</strong>Tage: mittlere Zeit bis zur Antwort (Median)",
        ],
    }
    for language, figures in expected.items():
        with translation.override(language):
            panel = render_to_string(
                "record/_health.html", {"health": health, "terms": {"respondent": "X"}}
            )
        panel = re.sub(r' data-figure="[^"]*"', "", panel)  # the dashboard's marks (#23)
        for figure in figures:
            assert figure in panel, (language, figure)
    with translation.override("en"):
        empty = render_to_string(
            "record/_health.html", {"health": compute([], {}, today=day(0)), "terms": {}}
        )
    empty = re.sub(r' data-figure="[^"]*"', "", empty)
    assert "<strong>—</strong>days: median time to reply" in empty


def test_a_reminder_of_one_day_says_day():
    from uphold.processes.models import Process

    reminder = Reminder(process=Process(code="kestrel"), kind="step_overdue", days=1)
    with translation.override("en"):
        assert reminders.text_of(reminder)[0] == "Process kestrel: a step is 1 day overdue"
    with translation.override("de"):
        assert reminders.text_of(reminder)[0] == "Prozess kestrel: ein Schritt ist 1 Tag überfällig"


def test_no_history_gives_no_figures():
    health = compute([], {}, today=day(0))
    assert health.longest_silence is None
    assert health.median_reply_days is None
    assert health.days_since_reply is None
    assert health.last_entry_on is None


def _log(user, when: date, direction: str, kind: str = "message") -> Entry:
    return services.add_entry(
        user,
        "kestrel",
        services.EntryData(occurred_on=when, kind=kind, direction=direction, summary="s"),
    )


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [
        ("en", "1 Jul 2019", r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d"),
        ("de", "1. Juli 2019", r"\d{1,2}\. [A-Z][a-zä]+ \d{4}, \d\d:\d\d"),
    ],
)
def test_dates_read_one_way_in_each_language(as_member, client_for, language, day, moment):
    """Not "July 1, 2019" beside "1 Dec 2026, 06:39" on one page."""
    import re

    with as_member("contact") as contact:
        entry = _log(contact, date(2019, 7, 1), "from_x")
    with translation.override(language):  # the request leaves its language active
        page = client_for("contact", HTTP_ACCEPT_LANGUAGE=language).get(
            reverse("entry", args=["kestrel", entry.pk])
        )
        assert date_format(date(2019, 7, 1), "SHORT_DATE_FORMAT") == day
    text = page.content.decode()
    assert f"<dd>{day}</dd>" in text
    logged = re.search(r"<dd>([^<·]*?) ·", text).group(1)
    assert re.fullmatch(moment, logged.strip()), logged


@pytest.mark.tampers  # sets dates in the database to stage the scene
def test_health_of_a_process_reads_the_log_without_keys(as_member):
    today = timezone.localdate()
    with as_member("contact") as contact:
        Entry.objects.filter(process__code="kestrel").update(kind="note", direction="none")
        for n in (520, 370, 0):
            _log(contact, today - timedelta(days=n), "from_x")
    health = health_of(Entry.objects.first().process, today)  # no keyring active here
    assert health.longest_silence == 370
    assert health.days_since_reply == 0


# The log


def test_editing_an_entry_keeps_the_earlier_version_in_the_audit_chain(as_member):
    with as_member("contact") as contact:
        entry = _log(contact, timezone.localdate(), "to_x")
        events = AuditEvent.objects.count()
        services.edit_entry(
            contact,
            "kestrel",
            entry.pk,
            services.EntryData(
                occurred_on=timezone.localdate(), kind="message", direction="to_x", summary="new"
            ),
            base_revision=1,
            why="typo",
        )
        version = EntryVersion.objects.get(entry=entry)
        assert (version.summary, version.why, version.revision) == ("s", "typo", 1)
        entry.refresh_from_db(fields=["revision"])
        assert entry.revision == 2 and Entry.objects.get(pk=entry.pk).summary == "new"
        assert AuditEvent.objects.count() == events + 2
        # Someone still holding revision 1 cannot overwrite the edit.
        before = database_state()
        with pytest.raises(services.Conflict):
            services.edit_entry(
                contact,
                "kestrel",
                entry.pk,
                services.EntryData(occurred_on=timezone.localdate(), kind="note", summary="stale"),
                base_revision=1,
            )
        assert database_state() == before


def test_a_future_date_for_a_past_event_is_warned_and_can_be_confirmed(as_member):
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = services.EntryData(occurred_on=tomorrow, kind="message", summary="s")
    with as_member("contact") as contact:
        before = database_state()
        with translation.override("en"), pytest.raises(services.FutureDate) as caught:
            services.add_entry(contact, "kestrel", data)
        assert "future" in str(caught.value.message_dict["occurred_on"])
        assert database_state() == before
        entry = services.add_entry(contact, "kestrel", data, confirm_future=True)
        assert entry.occurred_on == tomorrow


def test_the_quick_add_form_warns_about_a_future_date_in_german(client_for, people):
    client = client_for("contact")
    client.cookies["django_language"] = "de"
    tomorrow = timezone.localdate() + timedelta(days=1)
    post = {
        "occurred_on": tomorrow.isoformat(),
        "kind": "message",
        "direction": "to_x",
        "summary": "Brief an X",
    }
    before = database_state()
    response = client.post(
        reverse("entry-add", args=["kestrel"]), with_token(post), HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 400
    assert "in der Zukunft" in response.content.decode()
    assert database_state() == before
    response = client.post(
        reverse("entry-add", args=["kestrel"]),
        with_token({**post, "confirm_future": "on", "then": "log"}),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("log", args=["kestrel"])


def test_a_five_megabyte_pasted_message_is_refused_with_a_clear_message(client_for):
    client = client_for("contact")
    post = {
        "occurred_on": timezone.localdate().isoformat(),
        "kind": "message",
        "direction": "from_x",
        "summary": "a long mail",
        "text": "x" * (5 * 1024 * 1024),
    }
    before = database_state()
    response = client.post(reverse("entry-add", args=["kestrel"]), with_token(post))
    assert response.status_code == 400
    assert "too much text" in response.content.decode()
    assert database_state() == before


def test_a_message_over_the_limit_is_refused_by_the_service_in_german(as_member):
    data = services.EntryData(
        occurred_on=timezone.localdate(),
        kind="message",
        summary="s",
        text="y" * (services.MAX_TEXT + 1),
    )
    with as_member("contact") as contact, translation.override("de"):
        before = database_state()
        with pytest.raises(ValidationError) as caught:
            services.add_entry(contact, "kestrel", data)
        assert "Zeichen" in caught.value.message_dict["text"][0]
        assert database_state() == before


def test_an_entry_names_only_group_members_and_this_processs_demands(as_member, people):
    with as_member("contact") as contact:
        data = services.EntryData(
            occurred_on=timezone.localdate(),
            kind="message",
            summary="s",
            by=people["respondent"],
            demand_numbers=[9],
            tags=["made-up"],
        )
        with pytest.raises(ValidationError) as caught:
            services.add_entry(contact, "kestrel", data)
        assert set(caught.value.message_dict) == {"by", "demands", "tags"}


LONG_WORDING = "Inform any new political environment and sexual partners about his behaviour."


@pytest.mark.parametrize("page", ["entry-add", "step-add", "entry-edit"])
def test_demand_choices_show_the_number_and_the_start_of_the_wording(page, as_member, client_for):
    from uphold.demands import services as demands

    with as_member("support") as support:
        demands.add_demand(support, "kestrel", LONG_WORDING, "", "every group is told")
    kwargs = {"code": "kestrel"}
    if page == "entry-edit":
        kwargs["entry_id"] = Entry.objects.filter(process__code="kestrel").first().pk
    html = client_for("contact").get(reverse(page, kwargs=kwargs)).content.decode()
    assert f"Demand 1: {MARK}demands.demand.wording" in html
    assert "Demand 2: Inform any new political environment" in html
    assert LONG_WORDING not in html  # only its start


def test_a_demand_choice_is_the_number_alone_without_the_key(people):
    from django.utils import translation

    from uphold.processes.models import Process
    from uphold.record.forms import EntryForm

    # No member's keyring is active here, as for a member not yet given the keys. English,
    # whatever language a test before this one left active.
    with translation.override("en"):
        form = EntryForm(process=Process.objects.get(code="kestrel"), group=[])
        choices = [(value, str(label)) for value, label in form.fields["demands"].choices]
    assert choices == [("1", "Demand 1")]


def test_the_support_group_reads_the_log_but_does_not_write_it(as_member):
    from django.core.exceptions import PermissionDenied

    with as_member("support") as support, pytest.raises(PermissionDenied):
        _log(support, timezone.localdate(), "to_x")


def test_the_log_filters_by_tag(client_for, as_member):
    with as_member("contact") as contact:
        services.add_entry(
            contact,
            "kestrel",
            services.EntryData(
                occurred_on=timezone.localdate(),
                kind="message",
                summary="DENIED-IT",
                tags=["denial"],
            ),
        )
        _log(contact, timezone.localdate(), "to_x")
    client = client_for("contact")
    page = client.get(reverse("log", args=["kestrel"]), {"tag": "denial"}).content.decode()
    assert "DENIED-IT" in page
    assert MARK + "record.entry.summary" not in page
    page = client.get(reverse("log", args=["kestrel"])).content.decode()
    assert "DENIED-IT" in page and MARK + "record.entry.summary" in page


# Meetings and steps


def _meeting(contact, hours_ago: int = 3) -> Meeting:
    return services.plan_meeting(
        contact,
        "kestrel",
        planned_at=timezone.now() - timedelta(hours=hours_ago),
        place="Café Mila, Glasgow",
        attendees=[contact],
    )


def test_an_outcome_is_recorded_once(as_member):
    with as_member("contact") as contact:
        meeting = _meeting(contact)
        services.record_outcome(contact, "kestrel", meeting.pk, outcome="no_show", minutes="")
        entry = Meeting.objects.get(pk=meeting.pk).entry
        assert entry.kind == "meeting_missed"
        before = database_state()
        with pytest.raises(ValidationError) as caught:
            services.record_outcome(contact, "kestrel", meeting.pk, outcome="held", minutes="x")
        assert "already recorded" in caught.value.messages[0]
        assert database_state() == before


def test_a_meeting_still_to_come_cannot_be_marked_held(as_member):
    with as_member("contact") as contact:
        meeting = services.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=3),
            place="",
            attendees=[],
        )
        with pytest.raises(ValidationError):
            services.record_outcome(contact, "kestrel", meeting.pk, outcome="held", minutes="")
        services.record_outcome(contact, "kestrel", meeting.pk, outcome="postponed", minutes="")
        assert Meeting.objects.get(pk=meeting.pk).entry is None


def test_the_next_meeting_is_proposed_from_the_cadence(as_member):
    with as_member("contact") as contact:
        process = Meeting.objects.first().process
        held_on = timezone.localtime(
            Meeting.objects.filter(process=process, outcome="held").latest("planned_at").planned_at
        ).date()
        suggested = services.suggested_meeting_date(process, today=held_on)
        months = (suggested.year - held_on.year) * 12 + suggested.month - held_on.month
        assert months == process.meeting_every_months
        assert contact


def test_a_step_of_x_goes_to_the_group_only_with_a_reason(as_member):
    with as_member("contact") as contact:
        step = Step.objects.get(process__code="kestrel", owner="x")
        before = database_state()
        with pytest.raises(ValidationError) as caught:
            services.change_step(
                contact,
                "kestrel",
                step.pk,
                owner="group",
                status="open",
                reason="",
                evidence="",
                owner_seen="x",
                status_seen="open",
            )
        assert "reason" in caught.value.message_dict
        assert database_state() == before
        services.change_step(
            contact,
            "kestrel",
            step.pk,
            owner="group",
            status="open",
            reason="He asked us to write to his group for him",
            evidence="",
            owner_seen="x",
            status_seen="open",
        )
        step = Step.objects.get(pk=step.pk)
        assert step.owner == "group"
        assert step.what == MARK + "record.step.what_x"
        assert step.what_x == ""  # X no longer reads it as his
        change = StepChange.objects.filter(step=step).latest("pk")
        assert (change.owner_before, change.owner_after) == ("x", "group")
        assert change.reason.startswith("He asked us")


def test_a_step_changed_meanwhile_is_a_conflict(as_member):
    with as_member("contact") as contact:
        step = Step.objects.get(process__code="kestrel", owner="x")
        with pytest.raises(services.Conflict):
            services.change_step(
                contact,
                "kestrel",
                step.pk,
                owner="x",
                status="done",
                reason="",
                evidence="seen",
                owner_seen="x",
                status_seen="missed",
            )


# Confirmations to X, through a real SMTP server


def _held_meeting_with_steps(contact) -> Meeting:
    meeting = _meeting(contact)
    services.record_outcome(
        contact,
        "kestrel",
        meeting.pk,
        outcome="held",
        minutes="We went through demand 1.",
        steps=[
            services.StepData("x", "Tell his new group about the demands", date(2030, 3, 1), 1),
            services.StepData("group", "Send him the reading list", date(2030, 2, 1)),
        ],
    )
    services.plan_meeting(
        contact,
        "kestrel",
        planned_at=timezone.make_aware(timezone.datetime.combine(NEXT_DAY(), time(18, 30))),
        place="Online: the usual link",
        attendees=[contact],
    )
    return meeting


def test_the_confirmation_arrives_with_the_steps_and_dates(as_member, smtp_server):
    with as_member("contact") as contact:
        meeting = _held_meeting_with_steps(contact)
        draft = services.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
        assert draft.state == "draft"
        sent = services.send_confirmation(
            contact,
            "kestrel",
            draft.pk,
            to_address="x@example.org",
            subject=draft.draft_subject,
            body=draft.draft_body,
        )
        assert sent.state == "sent"
        stored = Confirmation.objects.get(pk=draft.pk)
        assert stored.sent_at is not None and stored.to_address == "x@example.org"
    [(recipients, message)] = smtp_server.messages
    assert recipients == ["x@example.org"]
    text = message.get_content()
    # In order of their due dates.
    assert "1. Send him the reading list (to be done by the contact group by 1 Feb 2030)" in text
    assert "2. Tell his new group about the demands" in text and "1 Mar 2030" in text
    with translation.override("en"):  # the confirmation was prepared in English
        assert date_format(NEXT_DAY(), "DATE_FORMAT") in text
    assert "Online: the usual link" in text
    assert "We went through demand 1." in text
    # The stored hash is of exactly the bytes the mail server received.
    assert hashlib.sha256(smtp_server.raw[0]).hexdigest() == stored.sha256
    assert message["Message-ID"] == stored.message_id


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_leaves_the_letter_unsent_and_it_can_be_retried(
    as_member, smtp_server, settings
):
    working = settings.EMAIL_PORT
    settings.EMAIL_PORT = _closed_port()
    with as_member("contact") as contact:
        meeting = _held_meeting_with_steps(contact)
        draft = services.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
        args = {
            "to_address": "x@example.org",
            "subject": draft.draft_subject,
            "body": draft.draft_body,
        }
        failed = services.send_confirmation(contact, "kestrel", draft.pk, **args)
        assert failed.state == "failed"
        assert failed.last_error == "ConnectionRefusedError"
        assert Confirmation.objects.get(pk=draft.pk).sent_at is None
        assert smtp_server.messages == []
        assert verify(failed.process) is None  # what was tried is in the audit chain
        settings.EMAIL_PORT = working
        sent = services.send_confirmation(contact, "kestrel", draft.pk, **args)
        assert sent.state == "sent" and sent.attempts == 2
        before = database_state()
        with pytest.raises(ValidationError):
            services.send_confirmation(contact, "kestrel", draft.pk, **args)
        assert database_state() == before
    assert len(smtp_server.messages) == 1


def test_the_confirmation_page_says_when_sending_failed(client_for, as_member, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    with as_member("contact") as contact:
        meeting = _held_meeting_with_steps(contact)
    client = client_for("contact")
    client.post(reverse("confirmation-prepare", args=["kestrel", meeting.pk]))
    confirmation = Confirmation.objects.get(meeting=meeting)
    response = client.post(
        reverse("confirmation", args=["kestrel", meeting.pk]),
        {"to_address": "x@example.org", "subject": "Our meeting", "body": "Text"},
    )
    assert response.status_code == 400
    assert "could not be reached" in response.content.decode()
    assert Confirmation.objects.get(pk=confirmation.pk).state == "failed"


# Reminders


@pytest.mark.tampers  # sets dates in the database to stage the scene
def test_reminders_are_made_once_per_occasion(as_member):
    today = timezone.localdate()
    with as_member("contact") as contact:
        Entry.objects.filter(process__code="kestrel").update(occurred_on=today - timedelta(60))
        _log(contact, today - timedelta(days=30), "to_x")
        step = Step.objects.get(process__code="kestrel", owner="x")
        Step.objects.filter(pk=step.pk).update(due_on=today - timedelta(days=10))
        services.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=2),
            place="",
            attendees=[],
        )
    added = reminders.scan(today)
    kinds = set(Reminder.objects.values_list("kind", flat=True))
    assert {"silence", "step_overdue", "meeting_soon"} <= kinds
    assert added == Reminder.objects.count()
    assert reminders.scan(today) == 0  # the same day again: nothing new
    silence = Reminder.objects.get(kind="silence")
    # The meeting held 60 days ago answered everything before it; the message since has waited.
    assert silence.days == 30
    assert "no reply for 30 days" in silence.text


@pytest.mark.tampers  # sets dates in the database to stage the scene
def test_a_reminder_says_nothing_sensitive_and_goes_to_contact_members(
    as_member, smtp_server, people
):
    people["contact"].email, people["support"].email = "c@example.org", "s@example.org"
    people["contact"].save(), people["support"].save()
    today = timezone.localdate()
    Step.objects.filter(process__code="kestrel").update(due_on=today - timedelta(days=30))
    Step.objects.filter(process__code="kestrel").update(status="open")
    reminders.scan(today)
    assert reminders.deliver("w1") == Reminder.objects.count()
    assert Reminder.objects.exclude(state=DeliveryState.SENT).count() == 0
    for recipients, message in smtp_server.messages:
        assert recipients == ["c@example.org"]
        assert MARK not in message.as_string()
        assert "kestrel" in message["Subject"]
    assert reminders.deliver("w2") == 0


def test_a_reminder_waits_when_the_mail_server_is_down(people, settings, smtp_server):
    people["contact"].email = "c@example.org"
    people["contact"].save()
    process = Meeting.objects.first().process
    Reminder.objects.create(process=process, kind="quiet", key="quiet:test", days=31)
    working, settings.EMAIL_PORT = settings.EMAIL_PORT, _closed_port()
    assert reminders.deliver("w1") == 0
    reminder = Reminder.objects.get(key="quiet:test")
    assert reminder.state == "pending" and reminder.last_error == "ConnectionRefusedError"
    settings.EMAIL_PORT = working
    Reminder.objects.filter(pk=reminder.pk).update(lease_until=timezone.now())
    assert reminders.deliver("w1") == 1
    assert len(smtp_server.messages) == 1


# Calendar


def test_the_feed_carries_no_place_and_a_revoked_link_stops_working(client, people, as_member):
    with as_member("contact") as contact:
        feed, token = calendar.create_feed(contact, "kestrel")
    url = reverse("feed", args=[token])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body and "kestrel" in body
    assert MARK not in body and "LOCATION" not in body
    with as_member("contact") as contact:
        calendar.revoke_feed(contact, "kestrel", feed.pk)
    response = client.get(url)
    assert response.status_code == 404
    assert "revoked" in response.content.decode()
    assert client.get(reverse("feed", args=["not-a-token"])).status_code == 404


def test_a_meetings_own_file_holds_its_place(client_for):
    meeting = Meeting.objects.filter(process__code="kestrel").first()
    response = client_for("support").get(reverse("meeting-ics", args=["kestrel", meeting.pk]))
    assert "LOCATION:" + MARK + "record.meeting.place" in response.content.decode()


def test_a_feed_that_asked_for_places_opens_them_with_its_secret_alone(client, as_member):
    from uphold.record.models import FeedPlace

    with as_member("contact") as contact:
        _feed, token = calendar.create_feed(contact, "kestrel", with_place=True)
        services.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=20),
            place="Back room, Glasgow",
            attendees=[],
        )
    # No keyring here: only the link's secret opens the copies.
    body = client.get(reverse("feed", args=[token])).content.decode()
    assert "LOCATION:" + MARK + "record.meeting.place" in body  # there before the link
    assert "LOCATION:Back room\\, Glasgow" in body  # planned after it
    stored = b"".join(bytes(s) for s in FeedPlace.objects.values_list("sealed", flat=True))
    assert b"Glasgow" not in stored
    # Another link's secret opens nothing of them.
    with as_member("contact") as contact:
        _other, other_token = calendar.create_feed(contact, "kestrel")
    assert "LOCATION" not in client.get(reverse("feed", args=[other_token])).content.decode()


def test_revoking_a_feed_with_places_deletes_its_copies(as_member):
    from uphold.record.models import FeedPlace

    with as_member("contact") as contact:
        feed, _token = calendar.create_feed(contact, "kestrel", with_place=True)
        assert FeedPlace.objects.filter(feed=feed).exists()
        calendar.revoke_feed(contact, "kestrel", feed.pk)
    assert not FeedPlace.objects.filter(feed=feed).exists()


def test_an_answer_to_a_demand_links_to_where_he_said_it(as_member, client_for):
    from uphold.demands import services as demands

    with as_member("contact") as contact:
        entry = _log(contact, timezone.localdate(), "from_x")
        answer = demands.record_answer(
            contact,
            "kestrel",
            1,
            kind="refuses",
            said_on=timezone.localdate(),
            note="",
            entry_id=entry.pk,
        )
        assert answer.entry == entry
        elsewhere = Entry.objects.exclude(process__code="kestrel").first()
        before = database_state()
        with pytest.raises(ValidationError):
            demands.record_answer(
                contact,
                "kestrel",
                1,
                kind="refuses",
                said_on=timezone.localdate(),
                note="",
                entry_id=(elsewhere.pk if elsewhere else 10**9),
            )
        assert database_state() == before
    page = client_for("support").get(reverse("demand", args=["kestrel", 1])).content.decode()
    assert reverse("entry", args=["kestrel", entry.pk]) in page


@pytest.mark.tampers  # sets dates in the database to stage the scene
def test_one_batch_of_the_worker_sends_the_reminders_due(people, smtp_server, monkeypatch):
    from django.core.management import call_command

    # Inside the test's transaction the worker must keep the test's database connection.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    people["contact"].email = "c@example.org"
    people["contact"].save(update_fields=["email"])
    Step.objects.filter(process__code="kestrel").update(
        status="open", due_on=timezone.localdate() - timedelta(days=30)
    )
    call_command("worker", batch=True, startup_delay=False, verbosity=0, remind_every=1)
    subjects = [message["Subject"] for _to, message in smtp_server.messages]
    assert subjects and all(s.startswith("Process kestrel: ") for s in subjects)
    assert any("30 days overdue" in s for s in subjects)
    assert Reminder.objects.filter(state="sent").count() == len(subjects)


def test_where_the_group_meets_without_x_is_not_his_to_read(as_member):
    from uphold.crypto.keyring import NoKey

    with as_member("contact") as contact:
        internal = services.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=5),
            place="Our own room",
            attendees=[],
            x_expected=False,
        )
        with_him = _held_meeting_with_steps(contact)
        _subject, body = services.confirmation_text(with_him, "en")
        assert "Our own room" not in body
        services.record_outcome(contact, "kestrel", internal.pk, outcome="cancelled", minutes="")
    with as_member("respondent"):
        meeting = Meeting.objects.get(pk=internal.pk)
        with pytest.raises(NoKey):
            _ = meeting.place
        assert Meeting.objects.get(pk=with_him.pk).place == "Café Mila, Glasgow"


def test_a_meeting_years_ahead_is_refused(as_member):
    with as_member("contact") as contact, pytest.raises(ValidationError) as caught:
        services.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=3 * 365),
            place="",
            attendees=[],
        )
    assert "planned_at" in caught.value.message_dict


def test_a_subject_on_two_lines_is_refused_and_leaves_the_draft_sendable(as_member):
    with as_member("contact") as contact:
        meeting = _held_meeting_with_steps(contact)
        draft = services.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
        before = database_state()
        with pytest.raises(ValidationError):
            services.send_confirmation(
                contact,
                "kestrel",
                draft.pk,
                to_address="x@example.org",
                subject="Hello\nBcc: someone@example.org",
                body="Text",
            )
        assert database_state() == before


def test_an_interrupted_send_can_be_retried_later_with_the_same_message_id(as_member, smtp_server):
    with as_member("contact") as contact:
        meeting = _held_meeting_with_steps(contact)
        draft = services.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
        # As if the server stopped mid-send a while ago.
        Confirmation.objects.filter(pk=draft.pk).update(
            state="sending",
            message_id="<earlier@uphold>",
            attempts=1,
            sending_since=timezone.now() - timedelta(minutes=5),
        )
        args = {"to_address": "x@example.org", "subject": "S", "body": "B"}
        with pytest.raises(ValidationError):
            services.send_confirmation(contact, "kestrel", draft.pk, **args)
        with pytest.raises(ValidationError):
            services.prepare_confirmation(contact, "kestrel", meeting.pk, "en")
        Confirmation.objects.filter(pk=draft.pk).update(
            sending_since=timezone.now() - timedelta(minutes=11)
        )
        sent = services.send_confirmation(contact, "kestrel", draft.pk, **args)
        assert sent.state == "sent" and sent.attempts == 2
    assert smtp_server.messages[0][1]["Message-ID"] == "<earlier@uphold>"


def test_the_feed_leaves_out_cancelled_meetings_and_is_not_cached(client, as_member):
    with as_member("contact") as contact:
        _feed, token = calendar.create_feed(contact, "kestrel")
        meeting = services.plan_meeting(
            contact,
            "kestrel",
            planned_at=timezone.now() + timedelta(days=9),
            place="",
            attendees=[],
        )
        before = client.get(reverse("feed", args=[token])).content.decode().count("BEGIN:VEVENT")
        services.record_outcome(contact, "kestrel", meeting.pk, outcome="cancelled", minutes="")
    response = client.get(reverse("feed", args=[token]))
    assert response.content.decode().count("BEGIN:VEVENT") == before - 1
    assert "CANCELLED" not in response.content.decode()
    assert response["Cache-Control"] == "no-store"  # as every response of ours
