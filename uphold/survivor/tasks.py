"""Background work for the survivor's side's page, run by `uphold worker`."""

from django.utils.translation import gettext as _
from django_tasks import task

from uphold.accounts.models import User
from uphold.lib.notices import send_notice
from uphold.processes.models import Role


@task()
def notify_contact_group_of_a_request(code: str) -> int:
    """Tells the contact group that the survivor's side asked for an item; says not which."""
    users = User.objects.filter(memberships__process__code=code, memberships__role=Role.CONTACT)
    return send_notice(
        users,
        lambda: (
            _("Uphold, process %(code)s: the survivor's side asks for an item") % {"code": code}
        ),
        lambda: (
            _(
                "In process %(code)s, the survivor's side asked to read an item of the record. "
                "Log in to Uphold to see the request and answer it.\n\n"
                "This notice carries no details on purpose."
            )
            % {"code": code}
        ),
    )
