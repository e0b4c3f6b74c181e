"""The one process-page context: the process menu, the process's words, what a member may see."""

import pytest
from django.urls import reverse

from uphold.processes.models import Membership
from uphold.web.process_page import MAY, TABS, process_context

ALL_TABS = [tab.name for tab in TABS]
# X's portal is his alone; the survivor's page is the survivor's side's (the support group's
# too); the requests of the survivor's side are answered by the groups.
# Mail is brought in by the contact group, who keep the record.
SUPPORT_TABS = [t for t in ALL_TABS if t not in ("portal", "mail")]
CONTACT_TABS = [t for t in ALL_TABS if t not in ("portal", "survivor")]
EVERY_MEMBER_TABS = ["overview", "demands"]
# The survivor's side also reads the reviews the contact group released to it, and the
# updates the support group released; the community group its report-backs; X only his portal.
SURVIVOR_TABS = ["overview", "survivor", "demands", "released", "released-reports"]
COMMUNITY_TABS = [*EVERY_MEMBER_TABS, "released-reports"]


def _membership(role: str) -> Membership:
    return Membership.objects.select_related("process").get(process__code="kestrel", role=role)


def _shown(context: dict) -> list[str]:
    by_url = {reverse(tab.route, args=["kestrel"]): tab.name for tab in TABS}
    return [by_url[link.url] for link in context["tabs"]]


@pytest.mark.parametrize(
    ("role", "tabs"),
    [
        ("support", SUPPORT_TABS),
        ("contact", CONTACT_TABS),
        ("survivor", SURVIVOR_TABS),
        ("community", COMMUNITY_TABS),
        ("respondent", ["portal"]),
    ],
)
def test_each_role_sees_the_tabs_of_what_it_may_read(people, role, tabs):
    assert _shown(process_context(_membership(role), "overview")) == tabs


def test_a_survivor_with_full_access_sees_the_record_tabs(as_member):
    from uphold.survivor.services import set_full_access

    with as_member("survivor") as user:
        set_full_access(user, "kestrel", True)  # their choice, with its event
    survivor = _membership("survivor")
    assert _shown(process_context(survivor, "overview")) == [
        t for t in SUPPORT_TABS if t != "requests"
    ]


@pytest.mark.parametrize("role", ["survivor", "support", "contact", "community", "respondent"])
def test_a_tab_is_shown_exactly_to_the_members_whose_role_may_open_it(client_for, role):
    client = client_for(role)
    shown = set(_shown(process_context(_membership(role), "overview")))
    for tab in TABS:
        status = client.get(reverse(tab.route, args=["kestrel"])).status_code
        refused = 302 if (role, tab.name) == ("respondent", "overview") else 403  # to his portal
        assert status == (200 if tab.name in shown else refused), (role, tab.name)


def test_the_active_tab_is_marked_as_the_current_page(people):
    context = process_context(_membership("contact"), "meetings")
    current = [link.url for link in context["tabs"] if link.current]
    assert current == [reverse("meetings", args=["kestrel"])]


def test_every_process_page_renders_its_menu_from_the_one_list(client_for):
    page = client_for("contact").get(reverse("steps", args=["kestrel"])).content.decode()
    for tab in TABS:
        shown = f'href="{reverse(tab.route, args=["kestrel"])}"' in page
        assert shown is (tab.name in CONTACT_TABS), tab.name
    assert f'<a href="{reverse("steps", args=["kestrel"])}" aria-current="page">' in page


def test_a_page_that_names_no_known_tab_is_a_mistake_in_the_code(people):
    with pytest.raises(ValueError):
        process_context(_membership("contact"), "no-such-tab")


def test_what_a_member_may_do_comes_from_the_permission_function(people):
    from uphold.processes.permissions import allowed

    for role in ["survivor", "support", "contact", "community", "respondent"]:
        membership = _membership(role)
        context = process_context(membership, "overview")
        assert {name: context[name] for name in MAY} == {
            name: allowed(membership, action) for name, action in MAY.items()
        }
    assert process_context(_membership("contact"), "overview")["can_write"] is True
    assert process_context(_membership("support"), "overview")["can_write"] is False


def test_the_process_words_are_opened_only_when_a_page_shows_them(as_member):
    context = process_context(_membership("respondent"), "overview", extra="kept")
    assert context["extra"] == "kept"
    with as_member("respondent"):  # opened here, on first use, with this member's keys
        assert context["terms"]["respondent"] == "MARKER-7f3a-processes.process.respondent_term"
    # Without the key, the default words stand in, and the page still renders.
    assert process_context(_membership("respondent"), "overview")["terms"]["respondent"] == "X"


def test_a_page_reached_from_a_tab_marks_none_as_current(client_for, people):
    context = process_context(_membership("contact"), None)
    assert context["tabs"] and not any(link.current for link in context["tabs"])
    page = client_for("contact").get(reverse("process-settings", args=["kestrel"])).content
    assert b'class="subnav"' in page and b'aria-current="page"' not in page
