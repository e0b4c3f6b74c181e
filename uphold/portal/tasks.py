"""Background work for the portal, run by `uphold worker`."""

from django.utils.translation import gettext as _
from django_tasks import task

from uphold.accounts.models import User
from uphold.lib.notices import send_notice
from uphold.processes.models import Role


@task()
def notify_contact_group(code: str) -> int:
    """Tells the contact group that X sent something through the portal; says nothing of it."""
    users = User.objects.filter(memberships__process__code=code, memberships__role=Role.CONTACT)
    return send_notice(
        users,
        lambda: (
            _("Uphold, process %(code)s: something arrived through the portal") % {"code": code}
        ),
        lambda: (
            _(
                "In process %(code)s, a message arrived through the portal. Log in to Uphold "
                "to read it: it is in the log.\n\n"
                "This notice carries no details on purpose."
            )
            % {"code": code}
        ),
    )
