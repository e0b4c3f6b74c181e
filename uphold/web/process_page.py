"""The one context of every process page: its tabs, the process's words, what the member may see.

Every view of a process page renders with `process_context(membership, "tab", **content)`.
A new app adds its tab to `TABS` (one line) and, if its templates show or hide a control, the
control's name to `MAY`. Neither checks a role itself: both ask the permission function, and
the view behind a tab or a control still goes through `authorize`.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from uphold.processes.models import Membership
from uphold.processes.permissions import allowed
from uphold.processes.queries import terms_of


@dataclass(frozen=True)
class Tab:
    name: str  # what a view names as its active tab
    label: Promise
    route: str  # the URL name; it takes the process code
    action: str  # shown to the members whose role allows it, as the view behind it checks


# The process menu, in its order.
TABS: tuple[Tab, ...] = (
    Tab("overview", _("Overview"), "process", "process.overview"),
    Tab("portal", _("Your portal"), "portal", "portal.view"),
    Tab("survivor", _("The survivor's page"), "survivor", "survivor.view"),
    Tab("demands", _("Letter and demands"), "demands", "demands.view"),
    Tab("log", _("Log"), "log", "record.view"),
    Tab("mail", _("Mail"), "mail", "mail.view"),
    Tab("people", _("People and circles"), "people", "record.view"),
    Tab("meetings", _("Meetings"), "meetings", "record.view"),
    Tab("reflections", _("Reflections"), "reflections", "reflections.view"),
    Tab("released", _("Released reviews"), "reviews-released", "reviews.released"),
    Tab("steps", _("Steps"), "steps", "record.view"),
    Tab("programme", _("Programme"), "referrals", "record.view"),
    Tab("reports", _("Reports"), "reports", "reports.export"),
    Tab("requests", _("Requests"), "item-requests", "survivor.requests"),
    Tab("released-reports", _("Released reports"), "released-reports", "reports.released"),
    Tab("members", _("Members"), "members", "members.view"),
    Tab("documents", _("Documents"), "documents", "documents.view"),
    Tab("audit", _("Audit log"), "audit", "audit.view"),
)
TAB_NAMES = frozenset(tab.name for tab in TABS)

# What a page may show, by the name its templates use, and the action that decides it.
MAY: dict[str, str] = {
    "can_see_members": "members.view",
    "can_see_audit": "audit.view",
    "can_see_record": "record.view",
    "can_write": "record.write",  # the record: log, meetings, steps
    "can_author": "demands.author",
    "can_edit_letter": "letter.edit",
    "can_hand_over": "letter.hand_over",
    "can_propose": "demands.propose",
    "can_decide": "demands.decide",
    "can_progress": "demands.progress",
    "can_answer": "demands.answer",
    "can_review": "reflections.write",
    "can_release": "reviews.release",
    "sees_history": "demands.history",
    "can_see_settings": "process.settings",
    "can_see_words": "process.words",
    "can_change_settings": "settings.view",
    "can_release_to_community": "reports.release_community",
    "can_release_to_survivor": "reports.release_survivor",
    "can_draft_reports": "reports.draft",
}


@dataclass(frozen=True)
class NavLink:
    label: Promise
    url: str
    current: bool


def tabs_for(membership: Membership, active_tab: str | None) -> list[NavLink]:
    """The tabs this member may open, the active one (if any) marked."""
    code = membership.process.code
    return [
        NavLink(tab.label, reverse(tab.route, args=[code]), tab.name == active_tab)
        for tab in TABS
        if allowed(membership, tab.action)
    ]


def process_context(membership: Membership, active_tab: str | None, **extra) -> dict:
    """What every process page's template gets, plus the page's own content in `extra`.

    `active_tab` names the tab the page belongs to; None for a page reached from within one
    (the settings page, from the overview), which marks no tab as the current page.

    `terms` (the process's words for the parties) is opened only when a template uses it,
    so a page that does not show them costs no key and no query for them.
    """
    if active_tab is not None and active_tab not in TAB_NAMES:
        raise ValueError(f"no tab {active_tab!r} in TABS")
    process = membership.process
    return {
        "membership": membership,
        "process": process,
        "terms": SimpleLazyObject(lambda: terms_of(process)),
        "tabs": tabs_for(membership, active_tab),
        **{name: allowed(membership, action) for name, action in MAY.items()},
        **extra,
    }
