from django import forms
from django.utils.translation import gettext_lazy as _

from uphold.processes.models import Role

from .models import Rhythm, TakingPart, Through
from .services import MAX_TEXT, WITHHELD_FROM

CHOOSE = _("Choose one of the answers in the list.")
# A number no row's id reaches, so a longer one is refused by the form, not by the database.
LARGEST_ID = 2**31 - 1


class PreferencesForm(forms.Form):
    rhythm = forms.ChoiceField(
        label=_("How often do you want an update?"),
        choices=Rhythm.choices,
        widget=forms.RadioSelect,
        error_messages=dict.fromkeys(("required", "invalid_choice"), CHOOSE),
    )
    through = forms.ChoiceField(
        label=_("Through whom?"),
        choices=Through.choices,
        widget=forms.RadioSelect,
        error_messages=dict.fromkeys(("required", "invalid_choice"), CHOOSE),
    )
    taking_part = forms.ChoiceField(
        label=_("How much do you want to take part in decisions?"),
        choices=TakingPart.choices,
        widget=forms.RadioSelect,
        error_messages=dict.fromkeys(("required", "invalid_choice"), CHOOSE),
    )
    content_note = forms.BooleanField(
        label=_("Put a content note at the top of every update"),
        required=False,
        help_text=_("A short warning of what the update is about, before anything else."),
    )
    avoid = forms.CharField(
        label=_("What you do not want to hear about"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "In your own words. The support and contact groups read it before they write you an "
            "update; nobody else does."
        ),
    )
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class WithholdingForm(forms.Form):
    what = forms.CharField(
        label=_("What must be kept from them"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what must be kept from them.")},
    )
    from_role = forms.ChoiceField(
        label=_("From whom: a role"),
        required=False,
        choices=[("", _("(a person, named below)"))] + [(r, Role(r).label) for r in WITHHELD_FROM],
    )
    from_whom = forms.CharField(
        label=_("or a person"),
        required=False,
        max_length=200,
        help_text=_("For example “his partner”, in your words."),
    )


class AskForm(forms.Form):
    what = forms.CharField(
        label=_("Which item would you like to read?"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example “his answer after the meeting in March”."),
        error_messages={"required": _("Say which item you would like to read.")},
    )


class ReleaseItemForm(forms.Form):
    entry = forms.IntegerField(
        label=_("Log entry number"),
        required=False,
        min_value=1,
        max_value=LARGEST_ID,
        help_text=_("The number at the end of the entry's address: 12 in …/log/12/."),
    )
    meeting = forms.IntegerField(
        label=_("or meeting number (its minutes)"),
        required=False,
        min_value=1,
        max_value=LARGEST_ID,
        help_text=_("The number at the end of the meeting's address: 3 in …/meetings/3/."),
    )


class DeclineForm(forms.Form):
    answer = forms.CharField(
        label=_("Why not, for the survivor's side"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why, in a sentence the survivor's side can read.")},
    )
