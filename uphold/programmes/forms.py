"""Forms for the directory and the referrals. Lengths and rules are checked by the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from uphold.accounts.forms import DateInput, LongSelect

from .models import Kind, ResearchedBy, Status
from .services import ProgrammeData, ReferralData, split_languages

NOTHING_ABOUT_A_CASE = _(
    "Everything here is in clear and read by the groups of every process on this server. "
    "Write only public facts about the programme: never anything about a case or a person."
)


class ProgrammeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=10_000)
    region = forms.CharField(label=_("Region"), required=False, max_length=10_000)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    languages = forms.CharField(
        label=_("Languages"),
        required=False,
        max_length=10_000,
        help_text=_("Separated by commas, e.g. German, English."),
    )
    contact = forms.CharField(
        label=_("Contact"),
        required=False,
        max_length=10_000,
        help_text=_("The programme's public address, phone or website."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Public facts only, at most 2,000 characters."),
    )
    hears_survivor = forms.BooleanField(
        label=_("The programme can hear the survivor's side"), required=False
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def data_object(self) -> ProgrammeData:
        c = self.cleaned_data
        return ProgrammeData(
            name=c["name"],
            kind=c["kind"],
            region=c["region"],
            languages=split_languages(c["languages"]),
            contact=c["contact"],
            notes=c["notes"],
            hears_survivor=c["hears_survivor"],
        )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class FilterForm(forms.Form):
    region = forms.CharField(label=_("Region"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any kind")), *Kind.choices]
    )
    language = forms.CharField(label=_("Language"), required=False)


def _programmes(programmes) -> list[tuple[str, str]]:
    return [("", _("not in the directory: name it below"))] + [
        (str(p.pk), str(p)) for p in programmes
    ]


class ReferralForm(forms.Form):
    programme = forms.ChoiceField(label=_("Programme"), required=False, widget=LongSelect)
    other_name = forms.CharField(
        label=_("Or a programme not in the directory"), required=False, max_length=10_000
    )
    researched_by = forms.ChoiceField(
        label=_("Who researched it"),
        choices=ResearchedBy.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "The demand asks X to find a programme himself. When the group does it for him, "
            "say so: it is counted."
        ),
    )
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    on = forms.DateField(label=_("Since"), widget=DateInput(format="%Y-%m-%d"))
    reasons = forms.CharField(
        label=_("X's stated reasons"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when he refused or dropped out."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=100_000, widget=forms.Textarea({"rows": 2})
    )

    def __init__(self, *args, programmes=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = _programmes(programmes)

    def data_object(self) -> ReferralData:
        c = self.cleaned_data
        return ReferralData(
            researched_by=c["researched_by"],
            status=c["status"],
            on=c["on"],
            programme_id=int(c["programme"]) if c["programme"] else None,
            other_name=c["other_name"],
            reasons=c["reasons"],
            note=c["note"],
        )


class ReferralChangeForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    on = forms.DateField(label=_("On"), widget=DateInput(format="%Y-%m-%d"))
    reasons = forms.CharField(
        label=_("X's stated reasons"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when he refused or dropped out."),
    )
    passed_contact_route = forms.BooleanField(
        label=_("The survivor's contact route was passed to the programme on this day"),
        required=False,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=100_000, widget=forms.Textarea({"rows": 2})
    )
    status_seen = forms.CharField(widget=forms.HiddenInput)
