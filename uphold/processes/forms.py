"""Forms for starting a process, inviting members and changing the settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from uphold.accounts.forms import DateInput, LongSelect, time_zone_choices

from . import services
from .models import GroupKind, Role
from .services import Setup


class StartProcessForm(forms.Form):
    """Everything but the code name, which the server proposes (see codenames.py)."""

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
    survivor_term = forms.CharField(
        label=_("What this process calls the person harmed"),
        max_length=60,
        initial=_("survivor"),
        help_text=_("For example survivor, or victim, as the person chooses."),
    )
    respondent_term = forms.CharField(
        label=_("What it calls the person who did harm"),
        max_length=60,
        initial="X",
        help_text=_("A letter or a word, not his name: the process's pages use it."),
    )
    meeting_every_months = forms.IntegerField(
        label=_("Meet him every how many months?"), min_value=1, max_value=24, initial=3
    )
    reply_reminder_days = forms.IntegerField(
        label=_("Remind the contact group when he has not replied for how many days?"),
        min_value=1,
        max_value=365,
        initial=21,
    )
    step_overdue_days = forms.IntegerField(
        label=_("Remind when an agreed step is overdue by how many days?"),
        min_value=1,
        max_value=365,
        initial=7,
    )

    started_on = forms.DateField(
        label=_("When did the process begin?"),
        required=False,
        widget=DateInput(format="%Y-%m-%d"),
        help_text=_(
            "Leave empty if it begins today. If your groups worked on it before, give the day "
            "it began, for example the day the letter was handed over; you can then enter what "
            "happened since."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        zones = time_zone_choices(_("(not taking part)"))
        for kind, label in GroupKind.choices:
            self.fields[f"{kind}_place"] = forms.CharField(
                label=_("%(group)s: where it is") % {"group": label},
                max_length=100,
                required=False,
                help_text=_("A city or region, e.g. Berlin. Stored encrypted."),
            )
            self.fields[f"{kind}_zone"] = forms.ChoiceField(
                label=_("%(group)s: time zone") % {"group": label},
                choices=zones,
                required=False,
                widget=LongSelect,
            )

    def clean(self) -> dict:
        data = super().clean()
        for kind, _label in GroupKind.choices:
            if data.get(f"{kind}_place") and not data.get(f"{kind}_zone"):
                self.add_error(f"{kind}_zone", _("Choose the group's time zone."))
        return data

    def setup(self) -> Setup:
        data = self.cleaned_data
        return Setup(
            title=data["title"],
            survivor_term=data["survivor_term"],
            respondent_term=data["respondent_term"],
            meeting_every_months=data["meeting_every_months"],
            reply_reminder_days=data["reply_reminder_days"],
            step_overdue_days=data["step_overdue_days"],
            started_on=data["started_on"],
            groups=[
                (kind, data[f"{kind}_place"], data[f"{kind}_zone"])
                for kind in GroupKind.values
                if data.get(f"{kind}_zone")
            ],
        )


class InviteMemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role of the person you invite"), choices=Role.choices)

    def __init__(self, *args, roles: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in Role.values if r in roles]


class SettingsSection(forms.Form):
    """One section of the settings page. Hidden `seen_*` fields carry the values it showed, so
    a setting another member changed meanwhile is a conflict, not an overwrite."""

    section = ""
    names: tuple[str, ...] = ()

    def __init__(self, data=None, *, current: dict) -> None:
        initial = current | {f"seen_{name}": current[name] for name in self.names}
        super().__init__(data, initial=initial, prefix=self.section)
        for name in self.names:
            self.fields[f"seen_{name}"] = forms.CharField(
                required=False, strip=False, widget=forms.HiddenInput
            )

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.names}

    def seen(self) -> dict:
        return {name: self.cleaned_data[f"seen_{name}"] for name in self.names}

    def saw(self, current: dict) -> None:
        """After a conflict: the member's values stay, and saving again applies them."""
        self.data = self.data.copy()
        for name in self.names:
            self.data[self.add_prefix(f"seen_{name}")] = current[name]


class WordsForm(SettingsSection):
    section = "words"
    names = services.WORDS

    def __init__(self, data=None, *, current: dict) -> None:
        super().__init__(data, current=current)
        required = {"required": _("Write the word this process uses.")}
        self.fields["survivor_term"] = forms.CharField(
            label=_("What this process calls the person harmed"),
            max_length=services.MAX_TERM,
            help_text=_("For example survivor, or victim, as the person chooses."),
            error_messages=required,
        )
        self.fields["respondent_term"] = forms.CharField(
            label=_("What it calls the person who did harm"),
            max_length=services.MAX_TERM,
            help_text=_("A letter or a word, not his name: the process's pages use it."),
            error_messages=required,
        )
        self.order_fields(self.names)


class RhythmForm(SettingsSection):
    section = "rhythm"
    names = services.RHYTHM
    labels = {
        "meeting_every_months": _("Meet him every how many months?"),
        "reply_reminder_days": _(
            "Remind the contact group when he has not replied for how many days?"
        ),
        "step_overdue_days": _("Remind when an agreed step is overdue by how many days?"),
    }

    def __init__(self, data=None, *, current: dict) -> None:
        super().__init__(data, current=current)
        for name in self.names:
            low, high = services.LIMITS[name]
            message = services.range_message(name)
            self.fields[name] = forms.IntegerField(
                label=self.labels[name],
                min_value=low,
                max_value=high,
                error_messages=dict.fromkeys(
                    ("required", "invalid", "min_value", "max_value"), message
                ),
            )
        self.order_fields(self.names)


class BeganForm(SettingsSection):
    section = "began"
    names = services.BEGAN

    def __init__(self, data=None, *, current: dict) -> None:
        super().__init__(data, current=current)
        self.fields["started_on"] = forms.DateField(
            label=_("The process began on"),
            required=False,
            widget=DateInput(format="%Y-%m-%d"),
            error_messages={"invalid": _("Enter a date, such as 2016-01-15.")},
            help_text=_("Empty means the day it was started in Uphold."),
        )
        self.order_fields(self.names)


class GroupForm(SettingsSection):
    section = "group"
    names = ("place", "time_zone")

    def __init__(self, data=None, *, current: dict) -> None:
        super().__init__(data, current=current)
        self.fields["place"] = forms.CharField(
            label=_("City or region"),
            max_length=services.MAX_PLACE,
            required=False,
            help_text=_("A city or region, e.g. Berlin. Stored encrypted."),
        )
        self.fields["time_zone"] = forms.ChoiceField(
            label=_("Your group's time zone"),
            choices=time_zone_choices(_("(choose one)")),
            widget=LongSelect,
            error_messages=dict.fromkeys(
                ("required", "invalid_choice"), _("Choose a time zone from the list.")
            ),
            help_text=_("Not encrypted: it says roughly where the group is."),
        )
        self.order_fields(self.names)


class PortalForm(SettingsSection):
    section = "portal"
    names = services.PORTAL

    def __init__(self, data=None, *, current: dict) -> None:
        super().__init__(data, current=current)
        self.fields["portal_open"] = forms.BooleanField(
            label=_("His portal is open"),
            required=False,
            help_text=_(
                "Open, the person who did harm reads his demands, his steps, his next meeting "
                "and your confirmations there, and sends reflections and updates. Closed, he "
                "is told it is closed, and nothing he sends is taken."
            ),
        )
