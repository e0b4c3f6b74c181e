"""Background work for demands, run by `uphold worker`."""

from django.utils.translation import gettext as _
from django_tasks import task

from uphold.accounts.models import User
from uphold.lib.notices import send_notice
from uphold.processes.models import Role


@task()
def notify_survivor_side(code: str, number: int) -> int:
    """Tells the support group that a proposal waits for the survivor's side's answer, and the
    survivor too unless they chose to hear nothing of decisions, or to hear only through their
    support group (uphold/survivor/)."""
    from uphold.survivor.models import Preferences, TakingPart, Through

    chosen = Preferences.objects.filter(process__code=code).values("through", "taking_part")
    wishes = chosen.first() or {}
    spared = (
        wishes.get("through") == Through.SUPPORT or wishes.get("taking_part") == TakingPart.NOTHING
    )
    roles = [Role.SUPPORT] if spared else [Role.SURVIVOR, Role.SUPPORT]
    users = User.objects.filter(memberships__process__code=code, memberships__role__in=roles)
    return send_notice(
        users,
        lambda: _("Uphold, process %(code)s: a proposal waits for your answer") % {"code": code},
        lambda: (
            _(
                "In process %(code)s, someone proposed a change to demand %(number)s. "
                "Log in to Uphold to read it and answer.\n\n"
                "This notice carries no details on purpose."
            )
            % {"code": code, "number": number}
        ),
    )
