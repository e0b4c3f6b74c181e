"""Processes and memberships: who may start, invite and remove, decided in the domain."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse

from uphold.accounts.services import acting_as
from uphold.processes import codenames, scopes
from uphold.processes.models import Membership, Process
from uphold.processes.permissions import PROCESS_ACTIONS, Reads, authorize, may_start_process
from uphold.processes.services import invite_member, remove_member, start_process

from .conftest import database_state


@pytest.mark.parametrize(
    ("inviter", "role", "allowed"),
    [
        ("support", "survivor", True),
        ("support", "support", True),
        ("support", "respondent", True),
        ("contact", "contact", True),
        ("contact", "community", True),
        ("contact", "respondent", True),
        ("contact", "support", False),
        ("contact", "survivor", False),
    ],
)
def test_who_invites_whom(people, inviter, role, allowed):
    if allowed:
        invitation, _token = invite_member(people[inviter], "kestrel", role)
        assert invitation.role == role
    else:
        with pytest.raises(PermissionDenied):
            invite_member(people[inviter], "kestrel", role)


@pytest.mark.parametrize("role", ["survivor", "community", "respondent"])
def test_members_outside_the_group_cannot_invite(people, role):
    with pytest.raises(PermissionDenied):
        invite_member(people[role], "kestrel", "community")


def test_the_admin_and_outsiders_do_not_see_the_process(people):
    for role in ["admin", "outsider"]:
        with pytest.raises((Http404, PermissionDenied)):
            authorize(people[role], "process.view", "kestrel")


def test_a_contact_member_cannot_remove_the_support_group(people):
    support = Membership.objects.get(process__code="kestrel", role="support")
    with pytest.raises(PermissionDenied):
        remove_member(people["contact"], "kestrel", support.pk)


def test_nobody_removes_themselves(people):
    mine = Membership.objects.get(process__code="kestrel", role="support")
    with pytest.raises(ValidationError):
        remove_member(people["support"], "kestrel", mine.pk)


def test_removing_a_member_ends_their_access(people):
    target = Membership.objects.get(process__code="kestrel", role="community")
    remove_member(people["support"], "kestrel", target.pk)
    with pytest.raises(Http404):
        authorize(people["community"], "process.view", "kestrel")


def test_starting_a_process_makes_the_starter_a_member(people):
    process = start_process(people["support"], "osprey", "contact")
    assert process.memberships.get().user == people["support"]


START = {
    "role": "contact",
    "title": "",
    "survivor_term": "victim",
    "respondent_term": "X",
    "meeting_every_months": "3",
    "reply_reminder_days": "21",
    "step_overdue_days": "7",
}


def test_starting_a_process_sets_its_words_rhythm_and_groups(client_for, people, accounts):
    from uphold.crypto.keyring import Keyring, using
    from uphold.crypto.services import unlock

    client = client_for("contact")
    form = START | {
        "proposal": codenames.sign(people["contact"], "osprey"),
        "meeting_every_months": "4",
        "started_on": "2016-01-15",
        "support_place": "Berlin",
        "support_zone": "Europe/Berlin",
        "contact_place": "Glasgow",
        "contact_zone": "Europe/London",
    }
    response = client.post(reverse("process-start"), form)
    assert response.status_code == 302
    process = Process.objects.get(code="osprey")
    assert (process.meeting_every_months, process.reply_reminder_days) == (4, 21)
    assert str(process.began_on) == "2016-01-15"
    contact = people["contact"]
    with using(Keyring(contact.pk, unlock(contact, accounts["contact"]["password"]))):
        process = Process.objects.get(code="osprey")
        assert (process.survivor_term, process.respondent_term) == ("victim", "X")
        groups = {(g.kind, g.place, g.time_zone) for g in process.groups.all()}
    assert groups == {
        ("support", "Berlin", "Europe/Berlin"),
        ("contact", "Glasgow", "Europe/London"),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"support_place": "Berlin"}, "Choose the group&#x27;s time zone."),
        ({"support_place": "Berlin", "support_zone": "Mars/Olympus"}, "Select a valid choice"),
        ({"meeting_every_months": "0"}, "greater than or equal to 1"),
        ({"respondent_term": ""}, "This field is required"),
        ({"started_on": "2999-01-01"}, "A process begins on a day that has come."),
        ({"started_on": "1999-12-31"}, "That is before 2000. Check the year."),
    ],
)
def test_a_bad_setup_explains_and_changes_nothing(client_for, people, change, message):
    client = client_for("contact")
    before = database_state()
    proposal = codenames.sign(people["contact"], "osprey")
    response = client.post(reverse("process-start"), START | {"proposal": proposal} | change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before


def proposed(page: str) -> tuple[str, str]:
    """The code name the start page shows, and the signed proposal its form sends back."""
    code = re.search(r"<p><code>([^<]+)</code></p>", page).group(1)
    return code, re.search(r'name="proposal" value="([^"]+)"', page).group(1)


def test_the_start_page_proposes_a_code_name_and_starts_with_it(client_for):
    client = client_for("contact")
    code, proposal = proposed(client.get(reverse("process-start")).content.decode())
    assert re.fullmatch(r"[a-z]+-[a-z]+-[1-9][0-9]", code)
    response = client.post(reverse("process-start"), START | {"proposal": proposal})
    assert response.status_code == 302
    assert response["Location"] == reverse("process", args=[code])


def test_pressing_start_twice_starts_one_process_and_opens_it(client_for):
    client = client_for("contact")
    code, proposal = proposed(client.get(reverse("process-start")).content.decode())
    client.post(reverse("process-start"), START | {"proposal": proposal})
    again = client.post(reverse("process-start"), START | {"proposal": proposal})
    assert again.status_code == 302 and again["Location"] == reverse("process", args=[code])
    assert Process.objects.filter(code=code).count() == 1


UNUSABLE = {
    "en": "That code name cannot be used. Uphold proposes a new one.",
    "de": "Dieser Codename kann nicht verwendet werden. Uphold schlägt einen neuen vor.",
}


def test_a_taken_code_name_is_refused_exactly_as_any_other(client_for, people):
    """`kestrel` exists, but not for the outsider: its refusal must not say "taken"."""
    outsider = people["outsider"]
    tries = {
        "taken": codenames.sign(outsider, "kestrel"),
        "typed": "kestrel",
        "malformed": codenames.sign(outsider, "Bad Code"),
        "for someone else": codenames.sign(people["contact"], "osprey"),
        "missing": "",
    }
    for lang, message in UNUSABLE.items():
        client = client_for("outsider", HTTP_ACCEPT_LANGUAGE=lang)
        before = database_state()
        answers = set()
        for proposal in tries.values():
            response = client.post(reverse("process-start"), START | {"proposal": proposal})
            page = response.content.decode()
            assert message in page
            code, signed = proposed(page)
            assert code not in {"kestrel", "osprey"}
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            for varying in (token, signed, code):  # a fresh token and proposal on each page
                page = page.replace(varying, "")
            answers.add((response.status_code, page))
        assert len(answers) == 1 and answers.pop()[0] == 400
        assert database_state() == before


def test_the_site_admin_cannot_start_or_join_a_process(people):
    with pytest.raises(PermissionDenied):
        start_process(people["admin"], "osprey", "support")


def test_the_survivor_reads_the_record_only_by_choice(as_member):
    from uphold.survivor.services import set_full_access

    survivor = Membership.objects.get(process__code="kestrel", role="survivor")
    assert scopes.RECORD not in scopes.scopes_of(survivor)
    survivor.survivor_full_access = True  # the flag alone, with no choice on the record
    assert scopes.RECORD not in scopes.scopes_of(survivor)
    with as_member("survivor") as user:
        set_full_access(user, "kestrel", True)
    survivor.refresh_from_db()
    assert scopes.RECORD in scopes.scopes_of(survivor)


def test_read_actions_follow_the_scope_list(people):
    """The permission function grants reads from scopes.READERS, nowhere else."""
    for action, rule in PROCESS_ACTIONS.items():
        if isinstance(rule, Reads):
            for membership in Membership.objects.filter(process__code="kestrel"):
                assert rule.allows(membership) == (membership.role in scopes.READERS[rule.scope]), (
                    action
                )


def test_the_process_page_shows_the_members_role(client_for):
    page = client_for("community").get(reverse("process", args=["kestrel"])).content.decode()
    assert "community group" in page
    assert "Members" not in page


def test_the_process_list_shows_only_my_processes(client_for):
    page = client_for("contact").get(reverse("home")).content.decode()
    assert "kestrel" in page and "heron" not in page


def test_process_pages_use_a_fixed_number_of_queries(
    client_for, people, django_assert_max_num_queries
):
    from uphold.processes.sample import build_process

    client = client_for("support")
    with django_assert_max_num_queries(18) as few:  # the open invitation links: one more
        client.get(reverse("members", args=["kestrel"]))
    small = len(few.captured_queries)
    for i in range(10):
        invite_member(people["support"], "kestrel", "community")
        build_process(f"wren-{i}", [(f"w{i}", "support")])
    more = Client()
    from .conftest import log_in

    log_in(more, people["support"])
    with django_assert_max_num_queries(small):
        more.get(reverse("members", args=["kestrel"]))
    assert Process.objects.count() > 10


@pytest.mark.parametrize(
    ("role", "offered"),
    [
        ("support", True),
        ("contact", True),
        ("survivor", False),
        ("community", False),
        ("respondent", False),
        ("admin", False),
    ],
)
def test_only_who_may_start_a_process_is_offered_it(client_for, role, offered):
    page = client_for(role).get(reverse("home")).content.decode()
    assert ("Start a process" in page) is offered
    assert client_for(role).get(reverse("process-start")).status_code == (200 if offered else 403)


def test_an_account_made_to_start_a_process_is_offered_it(db):
    from uphold.accounts.services import create_user

    fresh = create_user("wren", "the first passphrase").user
    assert may_start_process(acting_as(fresh))


def test_x_removed_from_his_process_still_cannot_start_one(people):
    respondent = Membership.objects.get(process__code="kestrel", role="respondent")
    remove_member(people["support"], "kestrel", respondent.pk)
    assert not Membership.objects.filter(user=people["respondent"]).exists()
    assert not may_start_process(people["respondent"])
    with pytest.raises(PermissionDenied):
        start_process(acting_as(people["respondent"]), "osprey", "support")


@pytest.mark.parametrize("role", ["respondent", "community"])
def test_x_and_the_community_group_do_not_see_the_groups_settings(client_for, role):
    page = client_for(role).get(reverse("process", args=["kestrel"])).content.decode()
    assert "Reminders" not in page and "without a reply" not in page
    assert "every 3 months" not in page
    assert "Words used" not in page


@pytest.mark.tampers  # sets the thresholds in the database
def test_the_group_sees_its_settings_in_plain_plurals(client_for):
    Process.objects.filter(code="kestrel").update(reply_reminder_days=1, step_overdue_days=7)
    page = client_for("contact").get(reverse("process", args=["kestrel"])).content.decode()
    assert "after 1 day without a reply; when a step is 7 days overdue" in page
    assert "Words used" in page
