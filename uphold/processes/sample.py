"""Sample processes for the demo and the generator, built only through the services."""

import secrets
from datetime import date

from django.utils import timezone

from uphold.accounts.models import User
from uphold.accounts.services import accept_as_member, acting_as, create_user
from uphold.crypto import keyring
from uphold.crypto.keyring import Keyring
from uphold.crypto.services import fingerprint_of, pin_own_keys, unlock

from . import services
from .models import Process, Role

# The demo tells the report's story (../shared/seed-timeline.md) with the report's intervals
# kept, moved as a whole so that it ends in the weeks before the demo is built: it reads as a
# process still going on, and its silences are the report's, not the years since 2019.
STORY_ENDS = date(2019, 12, 25)


def story_day(day: date) -> date:
    """A day of the report's timeline, moved to where it falls in the demo."""
    return day + (timezone.localdate() - STORY_ENDS)


class RealDataPresent(Exception):
    """The database holds real processes; sample data must never mix with them."""


def refuse_beside_real_data() -> None:
    if Process.objects.filter(is_sample=False).exists():
        raise RealDataPresent(
            "This database holds real processes; the demo and the generator refuse to run on it."
        )


def new_password(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def make_account(username: str, *, site_admin: bool = False) -> dict:
    password = new_password(username)
    account = create_user(username, password, site_admin=site_admin)
    return {"username": username, "password": password, "totp_key": account.device.key}


def build_process(
    code: str,
    people: list[tuple[str, str]],
    title: str = "",
    setup: "services.Setup | None" = None,
) -> list[dict]:
    """`people` is (username, role); the first, a support member, starts the process.

    Everyone else joins by an invitation link, exactly as in the web interface.
    """
    (founder_name, founder_role), *others = people
    if founder_role != Role.SUPPORT:
        raise ValueError("the first person starts the process and must be in the support group")
    accounts = [{**make_account(founder_name), "role": founder_role}]
    founder = acting_as(User.objects.get(username=founder_name))
    ring = Keyring(founder.pk, unlock(founder, accounts[0]["password"]))
    with keyring.using(ring):
        services.start_process(
            founder, code, founder_role, setup or services.Setup(title=title), is_sample=True
        )
        for username, role in others:
            accounts.append({**make_account(username), "role": role})
            _invitation, token = services.invite_member(founder, code, role)
            membership = accept_as_member(acting_as(User.objects.get(username=username)), token)
            fingerprint = fingerprint_of(membership.user)
            services.grant_access(founder, code, membership.pk, fingerprint)
    for account in accounts[1:]:  # as at each one's first login after access was given
        user = User.objects.get(username=account["username"])
        pin_own_keys(user.pk, unlock(user, account["password"]))
    return accounts
