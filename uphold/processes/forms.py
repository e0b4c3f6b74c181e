"""Forms for starting a process and inviting members."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Role, code_validator


class StartProcessForm(forms.Form):
    code = forms.CharField(
        label=_("Code name"),
        max_length=40,
        validators=[code_validator],
        help_text=_(
            "A short word that identifies no one, e.g. a bird or a river. "
            "It appears in links and reminders."
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "none"}),
    )
    title = forms.CharField(
        label=_("Title (for the support and contact groups only)"),
        max_length=200,
        required=False,
        help_text=_("Stored encrypted. Only members of the support and contact groups read it."),
    )
    role = forms.ChoiceField(
        label=_("Your group"),
        choices=[(Role.SUPPORT, Role.SUPPORT.label), (Role.CONTACT, Role.CONTACT.label)],
    )


class InviteMemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role of the person you invite"), choices=Role.choices)

    def __init__(self, *args, roles: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in Role.values if r in roles]
