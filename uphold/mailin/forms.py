from django import forms
from django.utils.translation import gettext_lazy as _

from uphold.crypto.keyring import opened
from uphold.record.models import Direction

from .models import Party, Security

LOCKED = _("(locked)")


def _name(person) -> str:
    return opened(lambda: person.name, LOCKED)


class AddressForm(forms.Form):
    party = forms.ChoiceField(
        label=_("Whose address"),
        choices=Party.choices,
        error_messages={"invalid_choice": _("Choose whose address it is from the list.")},
    )
    address = forms.CharField(label=_("Email address"), max_length=320)
    person = forms.TypedChoiceField(
        label=_("Which person or circle around X"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Only for someone around X."),
        error_messages={"invalid_choice": _("Choose the person or circle around X it belongs to.")},
    )
    member = forms.TypedChoiceField(
        label=_("Which member of the group"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "Only for a member's own address: their mail is then logged as written by them."
        ),
        error_messages={"invalid_choice": _("Choose the member of the group it belongs to.")},
    )

    def __init__(self, *args, people=(), members=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "—")] + [(p.pk, _name(p)) for p in people]
        self.fields["member"].choices = [("", "—")] + [(u.pk, u.username) for u in members]


def choice_options(people) -> list[tuple[str, str]]:
    options = [
        ("skip", _("Skip it")),
        (Direction.FROM_X, _("From X")),
        (Direction.TO_X, _("To X")),
        (Direction.NONE, _("Within the group")),
    ]
    for person in people:
        name = _name(person)
        options.append(
            (f"{Direction.FROM_CIRCLE}:{person.pk}", _("From %(name)s") % {"name": name})
        )
        options.append((f"{Direction.TO_CIRCLE}:{person.pk}", _("To %(name)s") % {"name": name}))
    return options


class ChoiceForm(forms.Form):
    number = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=10**9)
    choice = forms.ChoiceField(
        label=_("What it is"),
        error_messages={"invalid_choice": _("Choose from the list what this message is.")},
    )

    def __init__(self, *args, people=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = choice_options(people)


class ImapForm(forms.Form):
    host = forms.CharField(label=_("Server"), max_length=253, help_text=_("Like imap.example.org."))
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    security = forms.ChoiceField(
        label=_("Encryption"),
        choices=Security.choices,
        initial=Security.SSL,
        error_messages={
            "invalid_choice": _("Choose how the connection is encrypted from the list.")
        },
    )
    username = forms.CharField(label=_("User name"), max_length=320)
    password = forms.CharField(
        label=_("Password"), max_length=1000, strip=False, widget=forms.PasswordInput
    )
    folder = forms.CharField(label=_("Folder"), max_length=200, initial="INBOX", required=False)


class FetchForm(forms.Form):
    folder = forms.CharField(
        label=_("Folder"),
        max_length=200,
        required=False,
        help_text=_("Empty: the mailbox's own folder."),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.DateField(
        label=_("Before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The day after the last day wanted; empty: up to today."),
    )
