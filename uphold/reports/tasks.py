"""Background work for reports, run by `uphold worker`."""

from django.utils.translation import gettext as _
from django_tasks import task

from uphold.accounts.models import User
from uphold.lib.notices import send_notice
from uphold.processes.models import Role


@task()
def notify_survivor_of_an_update(code: str) -> int:
    """Tells the survivor that an update was released to them, if they chose to hear directly
    (uphold/survivor/); says nothing of what it holds."""
    from uphold.survivor.models import Preferences, Through

    chosen = Preferences.objects.filter(process__code=code).values_list("through", flat=True)
    if (chosen.first() or Through.DIRECTLY) != Through.DIRECTLY:  # not chosen: directly
        return 0
    users = User.objects.filter(memberships__process__code=code, memberships__role=Role.SURVIVOR)
    return send_notice(
        users,
        lambda: _("Uphold, process %(code)s: an update for you") % {"code": code},
        lambda: (
            _(
                "In process %(code)s, your support group released an update for you. Log in "
                "to Uphold to read it, when you want to.\n\n"
                "This notice carries no details on purpose."
            )
            % {"code": code}
        ),
    )
