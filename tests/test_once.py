"""A form sent twice saves once: a retry, a double click or a resubmit after a lost answer.

Each creating form carries a one-time token (uphold/web/once.py). The same token again creates
nothing and is sent to what the first post made; a new token makes a new thing; a missing or
malformed one is refused with 400 and changes nothing.
"""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from uphold.accounts.models import Invitation
from uphold.demands.models import Answer, ChangeProposal, Demand, Letter, LetterVersion, Progress
from uphold.programmes.models import Programme, Referral
from uphold.record.models import CalendarFeed, Entry, EntryVersion, Meeting, Step
from uphold.web import once
from uphold.web.models import Submission

from .conftest import database_state

ALREADY = "This was saved already; here it is."
TODAY = timezone.localdate()
STEP_ROWS = {f"step-{i}-{k}": v for i in range(3) for k, v in [("owner", "x"), ("status", "open")]}


def _demand_revision(people) -> str:
    return str(Demand.objects.get(process__code="kestrel", number=1).revision)


def _entry_edit(people) -> dict:
    entry = Entry.objects.filter(process__code="kestrel").order_by("pk").first()
    return {
        "occurred_on": entry.occurred_on.isoformat(),
        "kind": entry.kind,
        "direction": entry.direction,
        "channel": entry.channel,
        "summary": "Edited once",
        "revision": str(entry.revision),
        "why": "typo",
    }


# route, role, URL arguments, the form (or a function of the people giving it), what it makes.
CREATING = {
    "entry": (
        "entry-add",
        "contact",
        {},
        {"occurred_on": TODAY.isoformat(), "kind": "message", "direction": "to_x", "summary": "Hi"},
        Entry,
    ),
    "planned meeting": (
        "meeting-add",
        "contact",
        {},
        lambda people: {
            "planned_at": (TODAY + timedelta(days=30)).isoformat() + "T18:00",
            "x_expected": "on",
            "attendees": [str(people["contact"].pk)],
        },
        Meeting,
    ),
    "past meeting": (
        "meeting-past",
        "contact",
        {},
        {"held_at": "2019-05-02T18:00", "outcome": "held", "minutes": "We met.", **STEP_ROWS},
        Meeting,
    ),
    "step": (
        "step-add",
        "contact",
        {},
        {
            "what": "Find a programme",
            "owner": "x",
            "due_on": (TODAY + timedelta(days=9)).isoformat(),
        },
        Step,
    ),
    "demand": (
        "demand-add",
        "support",
        {},
        {"wording": "Stay away from the festival", "reasons": "", "criteria": "He is not there"},
        Demand,
    ),
    "proposal": (
        "demand-propose",
        "contact",
        {"number": 1},
        lambda people: {
            "wording": "A clearer wording",
            "reasons": "",
            "criteria": "He says so in writing",
            "why": "clearer",
            "revision": _demand_revision(people),
        },
        ChangeProposal,
    ),
    "progress note": (
        "demand-progress",
        "contact",
        {"number": 1},
        lambda people: {
            "status": Demand.objects.get(process__code="kestrel", number=1).status,
            "status_seen": Demand.objects.get(process__code="kestrel", number=1).status,
            "note": "He wrote back",
        },
        Progress,
    ),
    "answer": (
        "demand-answer",
        "contact",
        {"number": 1},
        {"kind": "renegotiate", "said_on": TODAY.isoformat(), "note": "He wants to talk"},
        Answer,
    ),
    "invitation": ("member-invite", "support", {}, {"role": "community"}, Invitation),
    "account invitation": ("admin-accounts", "admin", {}, {}, Invitation),
    "calendar link": ("feeds", "contact", {}, {}, CalendarFeed),
    "programme": (
        "programme-add",
        "support",
        {},
        lambda people: {"name": f"Example programme {once.fresh()}", "kind": "group"},
        Programme,
    ),
    "referral": (
        "referral-add",
        "contact",
        {},
        {
            "other_name": "Example programme Ost",
            "researched_by": "x",
            "status": "researching",
            "on": TODAY.isoformat(),
        },
        Referral,
    ),
}
# Saving a new version: the same form twice, with a fresh token, is a conflict by design.
CHANGING = {
    "entry edit": ("entry-edit", "contact", "entry", _entry_edit, EntryVersion),
    "letter": (
        "letter-edit",
        "support",
        None,
        lambda people: {
            "text": "A new wording of the letter",
            "revision": str(Letter.objects.get(process__code="kestrel").revision),
        },
        LetterVersion,
    ),
}


# Pages of the server, not of a process.
NO_PROCESS = {"admin-accounts", "programme-add"}


def _url(name: str, kwargs: dict) -> str:
    return reverse(name, kwargs={"code": "kestrel", **kwargs} if name not in NO_PROCESS else {})


def _case(table: dict, key: str, people) -> tuple[str, str, dict, type]:
    name, role, kwargs, form, model = table[key]
    if kwargs == "entry":
        kwargs = {"entry_id": Entry.objects.filter(process__code="kestrel").order_by("pk")[0].pk}
    form = form(people) if callable(form) else dict(form)
    return _url(name, kwargs or {}), role, form, model


def _token_of(page: str) -> str:
    found = re.findall(r'<input type="hidden" name="once" value="([^"]+)">', page)
    assert found, "the form carries no one-time token"
    return found[-1]


def _count(model) -> int:
    return model.objects.count()


@pytest.mark.parametrize("key", [*CREATING, *CHANGING])
def test_a_form_sent_twice_saves_once_and_the_second_answer_shows_it(key, people, client_for):
    url, role, form, model = _case(CREATING | CHANGING, key, people)
    client = client_for(role)
    token = _token_of(client.get(url).content.decode())
    before = _count(model)
    first = client.post(url, {**form, "once": token})
    assert first.status_code in (200, 302), first.content.decode()[:2000]
    assert _count(model) == before + 1
    again = client.post(url, {**form, "once": token})
    assert again.status_code == 302
    assert _count(model) == before + 1
    if first.status_code == 302:
        assert again["Location"] == first["Location"]
    assert ALREADY in client.get(again["Location"]).content.decode()


# The directory holds each programme once (name and region): the same form twice is refused.
ONCE_BY_NATURE = {"programme"}


@pytest.mark.parametrize("key", [key for key in CREATING if key not in ONCE_BY_NATURE])
def test_a_new_token_saves_a_second_one(key, people, client_for):
    url, role, form, model = _case(CREATING, key, people)
    client = client_for(role)
    before = _count(model)
    for _ in range(2):
        token = _token_of(client.get(url).content.decode())
        assert client.post(url, {**form, "once": token}).status_code in (200, 302)
    assert _count(model) == before + 2


@pytest.mark.parametrize("key", [*CREATING, *CHANGING])
@pytest.mark.parametrize("token", [None, "", "short", "x" * 33, "a" * 31 + "!", "é" * 32])
def test_a_missing_or_forged_token_is_refused_and_changes_nothing(key, token, people, client_for):
    url, role, form, _model = _case(CREATING | CHANGING, key, people)
    client = client_for(role)
    if token is not None:
        form["once"] = token
    before = database_state()
    response = client.post(url, form)
    assert response.status_code == 400
    assert "This page is out of date" in response.content.decode()
    assert database_state() == before


def test_the_refusal_is_in_german(client_for):
    client = client_for("contact")
    client.cookies["django_language"] = "de"
    response = client.post(reverse("entry-add", args=["kestrel"]), {}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert "Diese Seite ist veraltet" in response.content.decode()


def test_a_form_with_errors_keeps_its_token_and_then_saves_once(client_for):
    client = client_for("contact")
    url = reverse("entry-add", args=["kestrel"])
    token = _token_of(client.get(url).content.decode())
    before = database_state()
    refused = client.post(url, {"once": token, "kind": "message", "direction": "to_x"})
    assert refused.status_code == 400
    assert database_state() == before, "a refused form stores no token"
    assert _token_of(refused.content.decode()) == token
    form = {"once": token, "occurred_on": TODAY.isoformat(), "kind": "message"}
    form |= {"direction": "to_x", "summary": "Now complete"}
    count = Entry.objects.count()
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302
    assert Entry.objects.count() == count + 1


def test_each_page_gets_a_fresh_token(client_for):
    client = client_for("contact")
    url = reverse("entry-add", args=["kestrel"])
    tokens = {_token_of(client.get(url).content.decode()) for _ in range(3)}
    assert len(tokens) == 3
    assert all(once.WELL_FORMED.fullmatch(token) for token in tokens)


def test_the_quick_form_on_the_log_page_carries_a_token(client_for):
    client = client_for("contact")
    page = client.get(reverse("log", args=["kestrel"])).content.decode()
    token = _token_of(page)
    form = {"once": token, "occurred_on": TODAY.isoformat(), "kind": "note"}
    form |= {"direction": "none", "summary": "Quick", "then": "log"}
    count = Entry.objects.count()
    first = client.post(reverse("entry-add", args=["kestrel"]), form)
    again = client.post(reverse("entry-add", args=["kestrel"]), form)
    assert first["Location"] == again["Location"] == reverse("log", args=["kestrel"])
    assert Entry.objects.count() == count + 1


def test_the_same_token_from_another_member_is_their_own(people, client_for):
    """Tokens are per user: one member's token never stands for another member's form."""
    url = reverse("demand-propose", kwargs={"code": "kestrel", "number": 1})
    token = once.fresh()
    count = ChangeProposal.objects.count()
    for role in ("contact", "support"):
        form = {"once": token, "wording": f"Wording of the {role} group", "reasons": ""}
        form |= {"criteria": "c", "why": "clearer", "revision": _demand_revision(people)}
        response = client_for(role).post(url, form)
        assert response.status_code == 302
        assert ALREADY not in client_for(role).get(response["Location"]).content.decode()
    assert ChangeProposal.objects.count() == count + 2
    assert Submission.objects.filter(token=token).count() == 2


def test_the_token_table_holds_no_content(people, client_for):
    client = client_for("contact")
    url = reverse("entry-add", args=["kestrel"])
    token = _token_of(client.get(url).content.decode())
    form = {"once": token, "occurred_on": TODAY.isoformat(), "kind": "message"}
    form |= {"direction": "to_x", "summary": "SECRET-SUMMARY-TEXT"}
    response = client.post(url, form)
    row = Submission.objects.get(token=token)
    assert (row.user, row.location) == (people["contact"], response["Location"])
    assert "SECRET" not in repr(list(Submission.objects.values_list()))


def _post(user, token: str, data: dict):
    request = RequestFactory().post("/p/kestrel/anything/", {"once": token, **data})
    request.user = user
    request.session = {}
    request._messages = _Messages()
    return request


class _Messages(list):
    def add(self, level, message, extra_tags=""):
        self.append(str(message))


def test_a_post_that_meets_the_token_at_insert_creates_nothing(people):
    """Two posts at once: the second's insert fails the unique constraint, after the first
    commits (PostgreSQL holds it until then; SQLite's immediate transactions queue it). The
    check is that insert, so the same path answers a plain repeat: nothing runs, a redirect."""
    ran = []

    @once.guarded
    def view(request):
        ran.append(request)
        return once.redirect(request, "/p/kestrel/steps/")

    user, token = people["contact"], once.fresh()
    with transaction.atomic():
        Submission.objects.create(user=user, token=token, location="/p/kestrel/steps/7/")
        request = _post(user, token, {})
        response = view(request)
    assert ran == []
    assert (response.status_code, response["Location"]) == (302, "/p/kestrel/steps/7/")
    assert request._messages == [ALREADY]


def test_a_view_that_fails_leaves_neither_its_writes_nor_the_token(people):
    @once.guarded
    def view(request):
        Submission.objects.create(user=people["support"], token=once.fresh(), location="/x/")
        raise RuntimeError("the server fell over")

    user, token = people["contact"], once.fresh()
    with pytest.raises(RuntimeError):
        view(_post(user, token, {}))
    assert not Submission.objects.exists()


def test_the_worker_forgets_forms_sent_more_than_a_day_ago(people):
    from uphold.attachments.tasks import remove_stale_uploads

    user = people["contact"]
    old = Submission.objects.create(user=user, token=once.fresh(), location="/a/")
    Submission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    recent = Submission.objects.create(user=user, token=once.fresh(), location="/b/")
    remove_stale_uploads.call()
    assert list(Submission.objects.all()) == [recent]


def test_a_confirmation_sent_twice_goes_once_and_the_second_answer_shows_it(
    client_for, as_member, smtp_server
):
    """A confirmation is sent once by its own claim (one per meeting, record/services.py): it
    carries no token, and its page sent again leads to the meeting with what went."""
    from .test_record import _held_meeting_with_steps

    with as_member("contact") as contact:
        meeting = _held_meeting_with_steps(contact)
    client = client_for("contact")
    client.post(reverse("confirmation-prepare", args=["kestrel", meeting.pk]))
    url = reverse("confirmation", args=["kestrel", meeting.pk])
    form = {"to_address": "x@example.org", "subject": "Our meeting", "body": "Text"}
    first = client.post(url, form)
    before = database_state()
    again = client.post(url, form)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert database_state() == before
    assert len(smtp_server.messages) == 1
    assert "This was sent already; here it is." in client.get(again["Location"]).content.decode()


@pytest.mark.parametrize(
    "location", ["//elsewhere.example/", "/\\elsewhere.example/", "https://x.example/"]
)
def test_a_token_row_pointed_elsewhere_in_the_database_leads_nowhere(people, client_for, location):
    """A database writer who changes where a repeat goes gets the out-of-date page, never a
    redirect to another host."""
    client = client_for("contact")
    url = reverse("entry-add", args=["kestrel"])
    token = _token_of(client.get(url).content.decode())
    form = {"once": token, "occurred_on": TODAY.isoformat(), "kind": "message"}
    form |= {"direction": "to_x", "summary": "first"}
    assert client.post(url, form).status_code == 302
    Submission.objects.filter(token=token).update(location=location)
    again = client.post(url, form)
    assert again.status_code == 400 and "Location" not in again
