"""The log and the audit log come in pages: the next page shows the next entries, a bad page
number gets a clear answer, and a page costs the same queries however long the list."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from uphold.audit.models import AuditEvent
from uphold.audit.services import record as audit_record
from uphold.processes.models import Process
from uphold.record import services
from uphold.record.models import Entry
from uphold.record.queries import LOG_PAGE
from uphold.web.paging import PER_PAGE

from .conftest import database_state

LOG = reverse("log", args=["kestrel"])
AUDIT = reverse("audit", args=["kestrel"])


def _add_entries(contact, count: int, tags: tuple[str, ...] = ()) -> None:
    for n in range(count):
        entry = services.add_entry(
            contact,
            "kestrel",
            services.EntryData(
                occurred_on=date(2018, 1, 1) + timedelta(days=n),
                kind="message",
                direction="to_x",
                summary=f"Entry number {n:03}",
                tags=list(tags),
                demand_numbers=[1],
            ),
        )
        if n % 10 == 0:  # some edited, so the page shows "edited once"
            services.edit_entry(
                contact,
                "kestrel",
                entry.pk,
                services.EntryData(
                    occurred_on=entry.occurred_on,
                    kind="message",
                    direction="to_x",
                    summary=f"Entry number {n:03}",
                    tags=list(tags),
                    demand_numbers=[1],
                ),
                base_revision=1,
            )


def _log_order() -> list[int]:
    return list(
        Entry.objects.filter(process__code="kestrel")
        .order_by("-occurred_on", "-pk")
        .values_list("pk", flat=True)
    )


def _link(pk: int) -> str:
    return f'href="{reverse("entry", args=["kestrel", pk])}"'


# The log


def test_the_log_shows_one_page_and_the_next_page_shows_the_next_entries(client_for, as_member):
    with as_member("contact") as contact:
        _add_entries(contact, LOG_PAGE + 5)
    order = _log_order()
    client = client_for("support")
    first = client.get(LOG).content.decode()
    assert all(_link(pk) in first for pk in order[:LOG_PAGE])
    assert _link(order[LOG_PAGE]) not in first
    assert '<nav class="pager" aria-label="Pages of the log">' in first
    assert "Page 1 of 2" in first and 'href="/p/kestrel/log/?page=2" rel="next"' in first
    assert "Previous page" not in first
    second = client.get(LOG, {"page": "2"}).content.decode()
    assert all(_link(pk) in second for pk in order[LOG_PAGE:])
    assert _link(order[0]) not in second
    assert "Page 2 of 2" in second and 'href="/p/kestrel/log/" rel="prev"' in second
    assert "Next page" not in second


def test_a_short_log_has_no_pager(client_for):
    page = client_for("contact").get(LOG).content.decode()
    assert 'class="pager"' not in page and "Page 1 of" not in page


def test_the_pages_of_a_filtered_log_keep_the_filter(client_for, as_member):
    with as_member("contact") as contact:
        _add_entries(contact, LOG_PAGE + 1, tags=("denial",))
    page = client_for("contact").get(LOG, {"tag": "denial"}).content.decode()
    assert 'href="/p/kestrel/log/?tag=denial&amp;page=2" rel="next"' in page
    page = client_for("contact").get(LOG, {"tag": "denial", "page": "2"}).content.decode()
    assert "Entry number 000" in page and "Page 2 of 2" in page


@pytest.mark.parametrize(
    ("page", "status", "says"),
    [
        ("abc", 400, "“abc” is not a page number"),
        ("0", 400, "“0” is not a page number"),
        ("-1", 400, "“-1” is not a page number"),
        ("1.5", 400, "“1.5” is not a page number"),
        ("²", 400, "is not a page number"),
        ("40", 404, "There is no page 40 here: the last page is "),
        ("9" * 5000, 404, "There is no page"),
    ],
)
def test_a_bad_page_number_gets_a_clear_answer_and_changes_nothing(client_for, page, status, says):
    client = client_for("contact")
    before = database_state(ignoring=("sessions",))
    for url in (LOG, AUDIT):
        response = client.get(url, {"page": page})
        assert response.status_code == status, url
        text = response.content.decode()
        assert says in text
        assert "No such page" in text and "Go to the first page" in text
        assert 'aria-current="page"' in text  # still inside the process's pages
    assert database_state(ignoring=("sessions",)) == before


def test_a_bad_page_number_is_answered_in_german(client_for):
    client = client_for("contact", headers={"accept-language": "de"})
    text = client.get(LOG, {"page": "abc"}).content.decode()
    assert "„abc“ ist keine Seitenzahl" in text and "Zur ersten Seite" in text


def test_an_empty_page_number_is_the_first_page(client_for):
    assert client_for("contact").get(LOG, {"page": ""}).status_code == 200


def _count_queries(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as made:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(made.captured_queries)


def test_a_page_of_the_log_costs_the_same_queries_with_5_or_120_entries(client_for, as_member):
    client = client_for("contact")
    client.get(LOG)  # the first request of a session does more (the session's keys)
    with as_member("contact") as contact:
        _add_entries(contact, 5)
    few = _count_queries(client, LOG)
    with as_member("contact") as contact:
        _add_entries(contact, 115)
    assert Entry.objects.filter(process__code="kestrel").count() > 4 * LOG_PAGE
    assert _count_queries(client, LOG) == few
    assert _count_queries(client, LOG, page="3") == few
    assert _count_queries(client, LOG, tag="denial") <= few


# The audit log


def _add_events(count: int, people) -> None:
    kestrel = Process.objects.get(code="kestrel")
    for _ in range(count):
        audit_record(people["community"], kestrel, "login")


def test_the_audit_log_shows_one_page_and_the_next_page_shows_the_next_events(client_for, people):
    _add_events(PER_PAGE + 10, people)
    head = AuditEvent.objects.filter(process__code="kestrel").order_by("-seq").first().seq
    client = client_for("support")
    first = client.get(AUDIT).content.decode()
    assert f'<td data-label="#">{head}</td>' in first
    assert f'<td data-label="#">{head - PER_PAGE + 1}</td>' in first
    assert f'<td data-label="#">{head - PER_PAGE}</td>' not in first
    pages = -(-head // PER_PAGE)
    assert f"Page 1 of {pages}" in first
    assert '<nav class="pager" aria-label="Pages of the audit log">' in first
    second = client.get(AUDIT, {"page": "2"}).content.decode()
    assert f'<td data-label="#">{head - PER_PAGE}</td>' in second
    assert f'<td data-label="#">{head}</td>' not in second
    assert f"Page 2 of {pages}" in second
    last = client.get(AUDIT, {"page": str(pages)}).content.decode()
    assert '<td data-label="#">1</td>' in last and "Next page" not in last


def _named_rows() -> list:
    """One row of each kind the chain names so far, that still exists (fewer than a page)."""
    from django.apps import apps

    named = dict.fromkeys(
        AuditEvent.objects.filter(process__code="kestrel")
        .exclude(object_type="")
        .values_list("object_type", "object_id")
    )
    rows = {}
    for label, pk in named:
        model = apps.get_model(label)
        if model in rows:
            continue
        row = model._default_manager.filter(pk=model._meta.pk.to_python(pk)).first()
        if row is not None:
            rows[model] = row
    return list(rows.values())


def _name_in_turn(rows: list, count: int, actor) -> None:
    """Events naming `rows` in turn: with fewer rows than a page, every page of them names the
    same rows as the events before them, so every such page costs the same to name."""
    kestrel = Process.objects.get(code="kestrel")
    for n in range(count):
        audit_record(actor, kestrel, "change", rows[n % len(rows)])


def test_a_page_of_the_audit_log_costs_the_same_queries_with_5_or_120_events(client_for, people):
    client = client_for("contact")
    client.get(AUDIT)
    rows = _named_rows()
    assert 3 < len(rows) < PER_PAGE
    # Once each first: the newest page then names every kind of row there is, whatever the
    # fixture's own events were.
    _name_in_turn(rows, len(rows), people["contact"])
    few = _count_queries(client, AUDIT)
    _name_in_turn(rows, 3 * PER_PAGE, people["contact"])
    assert AuditEvent.objects.filter(process__code="kestrel").count() > 2 * PER_PAGE
    assert _count_queries(client, AUDIT) == few
    assert _count_queries(client, AUDIT, page="2") == few


def test_a_page_of_logins_costs_no_more_than_a_page_of_named_rows(client_for, people):
    client = client_for("contact")
    client.get(AUDIT)
    named = _count_queries(client, AUDIT)
    _add_events(3 * PER_PAGE, people)  # logins name no row
    assert _count_queries(client, AUDIT) <= named
    assert _count_queries(client, AUDIT, page="3") <= named


# Meetings and steps: a process of years has dozens of each.


def test_the_meetings_come_in_pages_newest_first(client_for, as_member):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from uphold.record.models import Meeting
    from uphold.record.queries import MEETINGS_PAGE

    with as_member("contact") as contact:
        for n in range(MEETINGS_PAGE + 3):
            services.record_past_meeting(
                contact, "kestrel",
                held_at=datetime.combine(date(2018, 1, 1) + timedelta(days=30 * n), time(18),
                                         tzinfo=ZoneInfo("Europe/London")),
                outcome="no_show",
            )  # fmt: skip
    total = Meeting.objects.filter(process__code="kestrel").count()
    client = client_for("contact")
    url = reverse("meetings", args=["kestrel"])
    first = client.get(url).content.decode()
    assert first.count('class="card"') == MEETINGS_PAGE
    assert f"Page 1 of {-(-total // MEETINGS_PAGE)}" in first
    newest = Meeting.objects.filter(process__code="kestrel").order_by("-planned_at").first()
    assert first.index(reverse("meeting", args=["kestrel", newest.pk])) < first.index("</ol>")
    last = client.get(url + "?page=2").content.decode()
    assert last.count('class="card"') == total - MEETINGS_PAGE
    assert client.get(url + "?page=x").status_code == 400
    assert client.get(url + "?page=9").status_code == 404


def test_the_steps_come_in_pages(client_for, as_member):
    from uphold.record.models import Step
    from uphold.record.queries import STEPS_PAGE

    with as_member("contact") as contact:
        for n in range(STEPS_PAGE + 2):
            services.add_step(
                contact, "kestrel",
                services.StepData("group", f"Step number {n:03}", date(2019, 1, 1), None),
            )  # fmt: skip
    total = Step.objects.filter(process__code="kestrel").count()
    client = client_for("contact")
    url = reverse("steps", args=["kestrel"])
    first = client.get(url).content.decode()
    assert first.count("<tr><td") == STEPS_PAGE
    assert client.get(url + "?page=2").content.decode().count("<tr><td") == total - STEPS_PAGE
    assert client.get(url + "?page=0").status_code == 400
