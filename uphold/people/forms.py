"""Forms for the people and circles around X. Lengths and rules are checked by the services."""

from django import forms
from django.utils import formats
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from uphold.accounts.forms import DateInput
from uphold.crypto.keyring import NoKey
from uphold.record.forms import demand_choices
from uphold.record.models import Entry

from .models import CIRCLE_RELATIONS, PERSON_RELATIONS, InformedBy, Kind, Reach, Stance
from .services import InformingData, PersonData, StanceData


def _date(**kwargs) -> forms.DateField:
    return forms.DateField(widget=DateInput(format="%Y-%m-%d"), **kwargs)


def _text(label, rows: int = 3, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs={"rows": rows}), **kwargs
    )


def relation_choices(kind: str | None = None) -> list:
    people = [(r.value, r.label) for r in PERSON_RELATIONS]
    circles = [(r.value, r.label) for r in CIRCLE_RELATIONS]
    if kind == Kind.PERSON:
        return people
    if kind == Kind.CIRCLE:
        return circles
    return [("", _("(choose one)")), (_("A person"), people), (_("A circle"), circles)]


class PersonForm(forms.Form):
    relation = forms.ChoiceField(label=_("Who they are to X"))
    name = forms.CharField(
        label=_("Name or alias"),
        max_length=100_000,
        help_text=_(
            "Encrypted, like everything in the record. An alias the group knows is enough."
        ),
    )
    joined_on = _date(label=_("Since when (X joined the circle, or they met)"), required=False)
    left_on = _date(label=_("Until when (X left, or it ended)"), required=False)
    asked_on = _date(label=_("Asked to support the demands on"), required=False)
    answer = _text(_("What they answered"))
    notes = _text(_("Notes"), rows=4)

    def __init__(self, *args, kind: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = relation_choices(kind)
        self.kind = kind

    def data_object(self) -> PersonData:
        data = self.cleaned_data
        relation = data["relation"]
        kind = self.kind or (Kind.CIRCLE if relation in CIRCLE_RELATIONS else Kind.PERSON)
        return PersonData(
            kind=kind,
            relation=relation,
            name=data["name"],
            notes=data["notes"],
            joined_on=data["joined_on"],
            left_on=data["left_on"],
            asked_on=data["asked_on"],
            answer=data["answer"],
        )


class PersonEditForm(PersonForm):
    revision = forms.IntegerField(widget=forms.HiddenInput)


def entry_label(entry: Entry) -> str:
    try:
        summary = entry.summary
    except NoKey:
        summary = ""
    day = formats.date_format(entry.occurred_on, "DATE_FORMAT")
    return f"{day}: {Truncator(summary).chars(60)}" if summary else day


class _ShownInForm(forms.Form):
    """A change dated and linked to the log entry that showed it."""

    on = _date(label=_("When"))
    entry = forms.TypedChoiceField(
        label=_("The log entry that shows it"), coerce=int, required=False, empty_value=None
    )
    note = _text(_("Note"))

    def __init__(self, *args, entries: list[Entry], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entry"].choices = [("", _("none"))] + [(e.pk, entry_label(e)) for e in entries]


class InformingForm(_ShownInForm):
    by = forms.ChoiceField(
        label=_("Who informed them"), choices=InformedBy.choices, widget=forms.RadioSelect
    )
    reach = forms.ChoiceField(
        label=_("How far down the circle"),
        choices=Reach.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    field_order = ["on", "by", "reach", "entry", "note"]

    def __init__(self, *args, circle: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not circle:
            del self.fields["reach"]

    def data_object(self) -> InformingData:
        data = self.cleaned_data
        return InformingData(
            on=data["on"],
            by=data["by"],
            reach=data.get("reach", ""),
            entry_id=data["entry"],
            note=data["note"],
        )


class StanceForm(_ShownInForm):
    stance = forms.ChoiceField(
        label=_("Their stance towards the demands"),
        choices=Stance.choices,
        widget=forms.RadioSelect,
    )
    field_order = ["on", "stance", "entry", "note"]

    def data_object(self) -> StanceData:
        data = self.cleaned_data
        return StanceData(
            on=data["on"], stance=data["stance"], entry_id=data["entry"], note=data["note"]
        )


class InformingDemandForm(forms.Form):
    demand = forms.TypedChoiceField(
        label=_("The demand that asks X to inform them"),
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args, demands, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["demand"].choices = [("", _("not said yet")), *demand_choices(demands)]
