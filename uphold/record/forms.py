"""Forms for the record. Lengths and rules are checked by the services."""

from django import forms
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from uphold.accounts.forms import DateInput
from uphold.accounts.models import User
from uphold.crypto.keyring import NoKey
from uphold.demands import queries as demand_queries
from uphold.demands.models import Demand
from uphold.people.queries import offered

from .models import Channel, Direction, EntryKind, Outcome, Owner, StepStatus, Tag
from .services import EntryData, StepData


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


WORDING_START = 60


def demand_label(demand: Demand) -> str:
    """The number and the start of the wording ("Demand 2: Inform any new political…"), so a
    member need not remember which number is which; the number alone if the member's keys do
    not open the wording."""
    try:
        wording = demand.wording
    except NoKey:
        wording = ""
    if not wording:
        return _("Demand %(n)s") % {"n": demand.number}
    start = Truncator(" ".join(wording.split())).chars(WORDING_START)
    return _("Demand %(n)s: %(wording)s") % {"n": demand.number, "wording": start}


def demand_choices(demands) -> list[tuple[str, str]]:
    return [(str(d.number), demand_label(d)) for d in demands]


def _ids(values) -> list[int]:
    return [int(v) for v in values or [] if str(v).isdigit() and len(str(v)) < 12]


def _people(users) -> list[tuple[str, str]]:
    return [("", _("nobody named"))] + [(str(u.pk), u.username) for u in users]


class EntryForm(forms.Form):
    """The quick-add form is this form's first fields; the rest fold away."""

    occurred_on = forms.DateField(label=_("When"), widget=DateInput(format="%Y-%m-%d"))
    kind = forms.ChoiceField(label=_("What"), choices=EntryKind.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    channel = forms.ChoiceField(
        label=_("How"), choices=[("", _("not applicable")), *Channel.choices], required=False
    )
    summary = forms.CharField(label=_("In short"), max_length=100_000)
    text = forms.CharField(
        label=_("The message or notes in full"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    by = forms.ChoiceField(label=_("Who from the group"), required=False)
    around = forms.TypedMultipleChoiceField(
        label=_("People and circles it is about"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The newest 40 are listed. To link someone older, add the entry from their page."
        ),
    )
    # Free text from before people and circles were listed: kept, and shown only where an
    # entry has some, so it can be moved into the list or left.
    people = forms.CharField(
        label=_("People noted in words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    tags = forms.MultipleChoiceField(
        label=_("Tags"), choices=Tag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    demands = forms.TypedMultipleChoiceField(
        label=_("Demands it concerns"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_future = forms.BooleanField(
        label=_("The date is in the future, and that is right"), required=False
    )

    def __init__(self, *args, process, group: list[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.group = {str(u.pk): u for u in group}
        self.fields["by"].choices = _people(group)
        self.fields["demands"].choices = demand_choices(demand_queries.for_choices(process))
        linked = _ids(self.initial.get("around")) + _ids(
            self.data.getlist("around") if self.data else []
        )
        self.fields["around"].choices = offered(process, also=linked)
        if not self.fields["around"].choices:
            del self.fields["around"]
        if not (self.initial.get("people") or (self.data and self.data.get("people"))):
            del self.fields["people"]

    def data_object(self) -> EntryData:
        data = self.cleaned_data
        return EntryData(
            occurred_on=data["occurred_on"],
            kind=data["kind"],
            direction=data["direction"],
            channel=data["channel"],
            by=self.group.get(data["by"] or ""),
            summary=data["summary"],
            text=data["text"],
            people=data.get("people", ""),
            tags=data["tags"],
            demand_numbers=data["demands"],
            around=data.get("around", []),
        )


class EntryEditForm(EntryForm):
    why = forms.CharField(
        label=_("Why the change (kept with the earlier version)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput)


class MeetingForm(forms.Form):
    planned_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    place = forms.CharField(
        label=_("Place or online link"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("X can read this, once he has access to the portal."),
    )
    attendees = forms.MultipleChoiceField(
        label=_("Who from the group goes"), required=False, widget=forms.CheckboxSelectMultiple
    )
    x_expected = forms.BooleanField(label=_("X is expected"), required=False, initial=True)

    def __init__(self, *args, group: list[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.group = {str(u.pk): u for u in group}
        self.fields["attendees"].choices = [(str(u.pk), u.username) for u in group]

    def chosen(self) -> list[User]:
        return [self.group[pk] for pk in self.cleaned_data["attendees"]]


STEP_ROWS = 3


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("What happened"), choices=Outcome.choices)
    minutes = forms.CharField(
        label=_("Minutes: what was discussed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, demands: list[Demand], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("none")), *demand_choices(demands)]
        for i in range(STEP_ROWS):
            self.fields[f"step-{i}-what"] = forms.CharField(
                label=_("Step %(n)s: what is to be done") % {"n": i + 1},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"step-{i}-owner"] = forms.ChoiceField(
                label=_("Who does it"), choices=Owner.choices, initial=Owner.X
            )
            self.fields[f"step-{i}-due_on"] = forms.DateField(
                label=_("Due on"), required=False, widget=DateInput(format="%Y-%m-%d")
            )
            self.fields[f"step-{i}-demand"] = forms.TypedChoiceField(
                label=_("Demand"),
                choices=choices,
                required=False,
                coerce=int,
                empty_value=None,
            )

    def steps(self) -> list[StepData]:
        data = self.cleaned_data
        return [
            StepData(
                owner=data[f"step-{i}-owner"],
                what=data[f"step-{i}-what"],
                due_on=data[f"step-{i}-due_on"],
                demand_number=data[f"step-{i}-demand"],
            )
            for i in range(STEP_ROWS)
            if (data.get(f"step-{i}-what") or "").strip()
        ]

    def step_rows(self) -> list[list]:
        return [
            [self[f"step-{i}-{name}"] for name in ("what", "owner", "due_on", "demand")]
            for i in range(STEP_ROWS)
        ]


class PastMeetingForm(OutcomeForm):
    """A meeting that already happened, entered after the fact, with how its steps turned out."""

    field_order = ["held_at", "outcome", "x_expected", "place", "attendees", "minutes"]

    held_at = forms.DateTimeField(label=_("When it was"), widget=DateTimeInput())
    x_expected = forms.BooleanField(label=_("X was expected"), required=False, initial=True)
    place = forms.CharField(
        label=_("Place or online link"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    attendees = forms.MultipleChoiceField(
        label=_("Who from the group went"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, demands: list[Demand], group: list[User], **kwargs) -> None:
        super().__init__(*args, demands=demands, **kwargs)
        self.group = {str(u.pk): u for u in group}
        self.fields["attendees"].choices = [(str(u.pk), u.username) for u in group]
        for i in range(STEP_ROWS):
            self.fields[f"step-{i}-status"] = forms.ChoiceField(
                label=_("How it turned out"), choices=StepStatus.choices, initial=StepStatus.OPEN
            )

    def chosen(self) -> list[User]:
        return [self.group[pk] for pk in self.cleaned_data["attendees"]]

    def steps(self) -> list[StepData]:
        found = super().steps()
        rows = [
            i for i in range(STEP_ROWS) if (self.cleaned_data.get(f"step-{i}-what") or "").strip()
        ]
        for step, i in zip(found, rows, strict=True):
            step.status = self.cleaned_data[f"step-{i}-status"]
        return found

    def step_rows(self) -> list[list]:
        return [
            [self[f"step-{i}-{name}"] for name in ("what", "owner", "due_on", "demand", "status")]
            for i in range(STEP_ROWS)
        ]


class StepForm(forms.Form):
    what = forms.CharField(label=_("What is to be done"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ChoiceField(label=_("Who does it"), choices=Owner.choices)
    due_on = forms.DateField(label=_("Due on"), widget=DateInput(format="%Y-%m-%d"))
    demand = forms.TypedChoiceField(label=_("Demand"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, demands: list[Demand], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["demand"].choices = [("", _("none")), *demand_choices(demands)]

    def data_object(self) -> StepData:
        data = self.cleaned_data
        return StepData(
            owner=data["owner"],
            what=data["what"],
            due_on=data["due_on"],
            demand_number=data["demand"],
        )


class StepChangeForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=StepStatus.choices)
    owner = forms.ChoiceField(label=_("Who does it"), choices=Owner.choices)
    evidence = forms.CharField(
        label=_("Evidence: what shows it was done, or not"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when a step of X's is handed to the group."),
    )
    owner_seen = forms.CharField(widget=forms.HiddenInput)
    status_seen = forms.CharField(widget=forms.HiddenInput)


class ConfirmationForm(forms.Form):
    to_address = forms.CharField(label=_("X's email address"), max_length=320)
    subject = forms.CharField(label=_("Subject"), max_length=100_000)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 18}))
