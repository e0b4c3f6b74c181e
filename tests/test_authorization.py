"""The route x role matrix: every route of the URL configuration, every role, one expected answer.

Adding a route without its row here fails `test_every_route_has_a_row`.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from uphold.accounts.services import make_invitation
from uphold.attachments.models import Attachment
from uphold.demands.models import ChangeProposal
from uphold.mailin.models import Address, ImapAccount, MailImport
from uphold.people.models import Person
from uphold.processes.models import Membership, Process
from uphold.programmes.models import Programme, Referral
from uphold.record import calendar
from uphold.record.models import Entry, Meeting, Step
from uphold.reflections.models import Reflection, Review
from uphold.survivor.models import ItemRequest, Withholding

from .conftest import ROLES, database_state

MEMBERS = ["survivor", "support", "contact", "community", "respondent"]


def expect(default: int, **by_role: int) -> dict[str, int]:
    """One expected status per role: `default`, except where a role is named."""
    groups = {
        "members": MEMBERS,
        "group": ["support", "contact"],
        "survivor_side": ["survivor", "support"],
        "proposers": ["survivor", "support", "contact"],
    }
    row = dict.fromkeys(ROLES, default)
    for name, status in by_role.items():
        for role in groups.get(name, [name]):
            row[role] = status
    return row


# Logged in but not allowed: 403. Not a member of that process (admins never are): 404.
# X reads his portal, not the pages of the process (the letter, the demands' pages).
NOT_X_PAGE = expect(404, anonymous=302, members=200, respondent=403)
GROUP_ONLY = expect(404, anonymous=302, members=403, group=200)
SURVIVOR_SIDE = expect(404, anonymous=302, members=403, survivor_side=200)
PROPOSERS = expect(404, anonymous=302, members=403, proposers=200)
# An empty form from a member allowed to send it: 400 with a message, nothing changed.
SURVIVOR_SIDE_POST = expect(404, anonymous=302, members=403, survivor_side=400)
PROPOSERS_POST = expect(404, anonymous=302, members=403, proposers=400)
ADMIN_ONLY = expect(403, anonymous=302, admin=200)
# The contact group writes the record; the support group reads it.
CONTACT_ONLY = expect(404, anonymous=302, members=403, contact=200)
CONTACT_POST = expect(404, anonymous=302, members=403, contact=400)
CONTACT_POST_ONLY = expect(404, anonymous=302, members=403, contact=405)
# Server pages (no process): a member of some process's support or contact group.
DIRECTORY = expect(403, anonymous=302, group=200, outsider=200)
DIRECTORY_POST = expect(403, anonymous=302, group=400, outsider=400)

MATRIX: dict[str, dict[str, dict[str, int]]] = {
    "home": {"GET": expect(200, anonymous=302)},
    "login": {"GET": expect(302, anonymous=200)},
    "logout": {"GET": expect(405), "POST": expect(302)},
    "leave": {"GET": expect(405), "POST": expect(302)},
    "set_language": {"GET": expect(302), "POST": expect(302)},
    "invite": {"GET": expect(200)},
    "password": {"GET": expect(200, anonymous=302)},
    "recover": {"GET": expect(200)},
    "reauth": {"GET": expect(200, anonymous=302)},
    "account-settings": {"GET": expect(200, anonymous=302), "POST": expect(302)},
    "admin-accounts": {"GET": ADMIN_ONLY},
    "admin-account-active": {
        "GET": expect(403, anonymous=302, admin=405),
        "POST": expect(403, anonymous=302, admin=302),
    },
    "admin-account-unlock": {
        "GET": expect(403, anonymous=302, admin=405),
        "POST": expect(403, anonymous=302, admin=302),
    },
    "admin-health": {"GET": ADMIN_ONLY},
    "admin-account-reset": {
        "GET": expect(403, anonymous=302, admin=405),
        "POST": expect(403, anonymous=302, admin=200),
    },
    "reset": {"GET": expect(200)},
    # Started as a support or contact group: not by X, the survivor or the community group.
    "process-start": {
        "GET": expect(200, anonymous=302, admin=403, survivor=403, community=403, respondent=403)
    },
    # X's overview is his portal: he is sent there.
    "process": {"GET": expect(404, anonymous=302, members=200, respondent=302)},
    "members": {"GET": GROUP_ONLY},
    "member-invite": {"GET": GROUP_ONLY},
    "member-grant": {
        "GET": expect(404, anonymous=302, members=403, group=405),
        "POST": GROUP_ONLY | {"support": 302, "contact": 302},
    },
    # A fresh link for the community group, which both groups may invite and so withdraw.
    "invitation-withdraw": {
        "GET": expect(404, anonymous=302, members=403, group=405),
        "POST": GROUP_ONLY | {"support": 302, "contact": 302},
    },
    # The survivor's side and the contact group each see their own sections; an empty post
    # names no section and is refused with 400.
    "process-settings": {
        "GET": expect(404, anonymous=302, members=403, survivor_side=200, contact=200),
        "POST": expect(404, anonymous=302, members=403, survivor_side=400, contact=400),
    },
    "audit": {"GET": GROUP_ONLY},
    "keys-rotate": {
        "GET": expect(404, anonymous=302, members=403, group=405),
        "POST": GROUP_ONLY | {"support": 302, "contact": 302},
    },
    "documents": {"GET": GROUP_ONLY},
    "document": {"GET": GROUP_ONLY},
    "member-remove": {
        "GET": expect(404, anonymous=302, members=403, group=405),
        "POST": GROUP_ONLY | {"support": 302, "contact": 302},
    },
    "demands": {"GET": NOT_X_PAGE},
    "demand": {"GET": NOT_X_PAGE},
    "demand-add": {"GET": SURVIVOR_SIDE, "POST": SURVIVOR_SIDE_POST},
    "demand-propose": {"GET": PROPOSERS, "POST": PROPOSERS_POST},
    "demand-progress": {"GET": PROPOSERS, "POST": PROPOSERS_POST},
    "demand-answer": {
        "GET": GROUP_ONLY,
        "POST": expect(404, anonymous=302, members=403, group=400),
    },
    # The proposal in the fixtures is answered already: answering again is refused with 400.
    "proposal": {"GET": SURVIVOR_SIDE, "POST": SURVIVOR_SIDE_POST},
    "letter-edit": {"GET": SURVIVOR_SIDE, "POST": SURVIVOR_SIDE_POST},
    # Whoever handed the letter over marks it: the survivor's side or the contact group.
    "letter-sent": {"GET": PROPOSERS, "POST": PROPOSERS_POST},
    "letter-version": {"GET": NOT_X_PAGE},
    "letter-documents": {
        "GET": expect(404, anonymous=302, members=403, survivor_side=405),
        "POST": expect(404, anonymous=302, members=403, survivor_side=302),
    },
    "letter-document": {"GET": NOT_X_PAGE},
    "log": {"GET": GROUP_ONLY},
    "timeline": {"GET": GROUP_ONLY},
    "reports": {"GET": GROUP_ONLY},
    # An export without a kind and format: refused with the reason, nothing exported.
    # Only to those who may release something; an empty form is refused with the reason.
    "report-release": {
        "GET": expect(404, anonymous=302, members=403, group=405),
        "POST": expect(404, anonymous=302, members=403, group=400),
    },
    # The group's words, sent without a kind: refused with the reason, nothing saved.
    "report-words": {
        "GET": expect(404, anonymous=302, members=403, group=405),
        "POST": expect(404, anonymous=302, members=403, group=400),
    },
    # X's portal: his alone. An empty form from him is refused with the reason.
    "portal": {"GET": expect(404, anonymous=302, members=403, respondent=200)},
    "portal-send": {
        "GET": expect(404, anonymous=302, members=403, respondent=405),
        "POST": expect(404, anonymous=302, members=403, respondent=400),
    },
    # The survivor's page and what belongs to it: the survivor's side's. Empty forms, and forms
    # without their one-time token, are refused with the reason.
    "survivor": {"GET": SURVIVOR_SIDE},
    "survivor-ask": {
        "GET": expect(404, anonymous=302, members=403, survivor_side=405),
        "POST": SURVIVOR_SIDE_POST,
    },
    "survivor-preferences": {"GET": SURVIVOR_SIDE, "POST": SURVIVOR_SIDE_POST},
    "survivor-withhold": {
        "GET": expect(404, anonymous=302, members=403, survivor_side=405),
        "POST": SURVIVOR_SIDE_POST,
    },
    "survivor-withhold-remove": {
        "GET": expect(404, anonymous=302, members=403, survivor_side=405),
        "POST": expect(404, anonymous=302, members=403, survivor_side=302),
    },
    # Only the survivor chooses to read the whole record.
    "survivor-access": {
        "GET": expect(404, anonymous=302, members=403, survivor=200),
        "POST": expect(404, anonymous=302, members=403, survivor=400),
    },
    "item-requests": {"GET": GROUP_ONLY},
    "item-release": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    "item-decline": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    "released-reports": {"GET": expect(404, anonymous=302, members=200, respondent=403)},
    "report-export": {
        "GET": expect(404, anonymous=302, members=403, group=405),
        "POST": expect(404, anonymous=302, members=403, group=400),
    },
    "entry-add": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "entry": {"GET": GROUP_ONLY},
    "entry-edit": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    # No file sent: a message, and back to the entry.
    "entry-documents": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_ONLY | {"contact": 302}},
    "meetings": {"GET": GROUP_ONLY},
    "meeting-add": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "meeting-past": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "meeting": {"GET": GROUP_ONLY},
    # The fixture's meeting has its outcome: the form shows, an empty answer is refused.
    "meeting-outcome": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "meeting-ics": {"GET": GROUP_ONLY},
    "confirmation-prepare": {
        "GET": CONTACT_POST_ONLY,
        "POST": CONTACT_ONLY | {"contact": 302},
    },
    "confirmation": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "steps": {"GET": GROUP_ONLY},
    "step-add": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "step": {"GET": GROUP_ONLY},
    "step-change": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    # A post without the form's one-time token (web/once.py) is refused with 400; with it,
    # making a calendar link answers with the page that shows it once (tests/test_once.py).
    "feeds": {"GET": GROUP_ONLY, "POST": expect(404, anonymous=302, members=403, group=400)},
    "feed": {"GET": expect(200)},
    "people": {"GET": GROUP_ONLY},
    "person-add": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "person": {"GET": GROUP_ONLY},
    "person-edit": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "person-informed": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "person-stance": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "informing": {"GET": GROUP_ONLY},
    "informing-demand": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    # Reflections and reviews are the record's; the fixture's review is the contact member's
    # own, so they may change it. Its release is withdrawn by a post; an empty release form
    # (no one-time token) is refused.
    "reflections": {"GET": GROUP_ONLY},
    "reflection-add": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "reflection": {"GET": GROUP_ONLY},
    "review-add": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "review": {"GET": GROUP_ONLY},
    "review-edit": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "review-release": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "review-withdraw": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_ONLY | {"contact": 302}},
    # Released reviews are the survivor's side's to read: never X's or the community group's.
    "reviews-released": {"GET": expect(404, anonymous=302, members=403, survivor=200, group=200)},
    # The programme directory belongs to no process: it is kept by whoever is in a support or
    # contact group of some process (the outsider is heron's support group); nobody else.
    "programmes": {"GET": DIRECTORY},
    # Without the form's one-time token, a post is refused with 400 (web/once.py).
    "programme-add": {"GET": DIRECTORY, "POST": DIRECTORY_POST},
    "programmes-import": {"GET": DIRECTORY, "POST": DIRECTORY_POST},
    "programme": {"GET": DIRECTORY},
    "programme-edit": {"GET": DIRECTORY, "POST": DIRECTORY_POST},
    # A process's referrals are its record: read by both groups, written by the contact group.
    "referrals": {"GET": GROUP_ONLY},
    "referral-add": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "referral": {"GET": GROUP_ONLY},
    "referral-change": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    # Mail is the contact group's. An upload without files, a form without its one-time
    # token, no choice, and confirming or dropping the fixture's import (confirmed already) are
    # refused with the reason; its undo (within the day) and an address's removal go through.
    "mail": {"GET": CONTACT_ONLY, "POST": CONTACT_POST},
    "mail-address-add": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    "mail-address-remove": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_ONLY | {"contact": 302}},
    "mail-import": {"GET": CONTACT_ONLY},
    # A mailbox: added with a form (without its one-time token: refused), removed; "Fetch
    # now" answers at once with the page that streams its progress.
    "mail-imap-add": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    "mail-imap-remove": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_ONLY | {"contact": 302}},
    "mail-imap-fetch": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_ONLY},
    "mail-import-choose": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    "mail-import-confirm": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    "mail-import-drop": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_POST},
    "mail-import-undo": {"GET": CONTACT_POST_ONLY, "POST": CONTACT_ONLY | {"contact": 302}},
}


def route_names() -> list[str]:
    def walk(patterns) -> list[str]:
        names = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                names += walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                names.append(pattern.name)
        return names

    return walk(get_resolver().url_patterns)


def reset_token(user) -> str:
    from datetime import timedelta

    from django.utils import timezone

    from uphold.accounts.models import PasswordReset, hash_token

    token = f"reset-{user.pk}-{timezone.now().timestamp()}"
    PasswordReset.objects.create(
        token_hash=hash_token(token), user=user, expires_at=timezone.now() + timedelta(days=1)
    )
    return token


def feed_maker(accounts):
    from uphold.accounts.models import User
    from uphold.accounts.services import acting_as

    return acting_as(User.objects.get(username=accounts["contact"]["username"])), "kestrel"


def url_for(name: str, accounts) -> str:
    """Arguments point at kestrel's objects: the community member, a fresh invitation.

    Only the arguments the route takes are looked up (an invitation is made only for a route
    that takes one), so a test whose request writes nothing has written nothing at all.
    """

    def kestrel(model):
        return model.objects.filter(process__code="kestrel").order_by("pk").first().pk

    def community():
        return Membership.objects.get(process__code="kestrel", role="community")

    def invitation():
        process = Process.objects.get(code="kestrel")
        return make_invitation(None, process=process, role="community")

    def token():
        if name == "reset":
            return reset_token(community().user)
        if name == "feed":
            return calendar.create_feed(*feed_maker(accounts))[1]
        return invitation()[1]

    scope = "shared" if name == "letter-document" else "record"
    params = {
        "code": lambda: "kestrel",
        "token": token,
        "invitation_id": lambda: invitation()[0].pk,
        "user_id": lambda: community().user_id,
        "member_id": lambda: community().pk,
        "attachment_id": lambda: Attachment.objects.get(process__code="kestrel", scope=scope).pk,
        "number": lambda: 1,
        "revision": lambda: 1,
        "proposal_id": lambda: kestrel(ChangeProposal),
        "entry_id": lambda: kestrel(Entry),
        "meeting_id": lambda: kestrel(Meeting),
        "step_id": lambda: kestrel(Step),
        "person_id": lambda: kestrel(Person),
        "reflection_id": lambda: kestrel(Reflection),
        "review_id": lambda: kestrel(Review),
        "programme_id": lambda: Programme.objects.order_by("pk").first().pk,
        "referral_id": lambda: kestrel(Referral),
        "withholding_id": lambda: kestrel(Withholding),
        "request_id": lambda: kestrel(ItemRequest),
        "address_id": lambda: kestrel(Address),
        "batch_id": lambda: kestrel(MailImport),
        "account_id": lambda: kestrel(ImapAccount),
    }
    pattern = next(p for p in get_resolver().url_patterns if p.name == name)
    wanted = pattern.pattern.regex.groupindex
    return reverse(name, kwargs={k: v() for k, v in params.items() if k in wanted})


CASES = [
    (name, method, role, status)
    for name, methods in MATRIX.items()
    for method, row in methods.items()
    for role, status in row.items()
]


def test_every_route_has_a_row():
    names = route_names()
    assert None not in names, "every route needs a name"
    assert set(names) == set(MATRIX), f"rows missing: {set(names) - set(MATRIX)}"
    for name, methods in MATRIX.items():
        assert "GET" in methods, name
        for row in methods.values():
            assert set(row) == set(ROLES), name


def test_every_view_goes_through_the_permission_function():
    for pattern in get_resolver().url_patterns:
        assert getattr(pattern.callback, "uphold_access", None), f"{pattern.name} is not guarded"


@pytest.mark.parametrize(("name", "method", "role", "status"), CASES)
def test_route_answers_role(name, method, role, status, accounts, client_for):
    client = client_for(role)
    url = url_for(name, accounts)
    before = database_state()
    response = client.generic(method, url)
    assert response.status_code == status, f"{method} {url} as {role}"
    if method == "GET":
        assert database_state() == before, f"GET {url} as {role} changed the database"


@pytest.mark.parametrize("role", ["support", "contact", "survivor", "community", "respondent"])
def test_ids_from_another_process_give_404(role, accounts, client_for):
    other = Membership.objects.get(process__code="heron")
    url = reverse("member-remove", kwargs={"code": "kestrel", "member_id": other.pk})
    expected = 404 if role in {"support", "contact"} else 403
    client = client_for(role)
    before = database_state()
    assert client.post(url).status_code == expected
    assert database_state() == before


def matrix_size() -> tuple[int, int, int]:
    return len(MATRIX), len(ROLES), len(CASES)
