"""The group's own words in a report: a text box for each part of the kind, and the revision
of each part the member loaded, so a save over someone else's words is a conflict."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DRAFT_PARTS, ReportDraft
from .services import MAX_DRAFT

LEFT_OUT_HELP = _(
    "The retrospective already leaves out the names of the people around him, the words chosen "
    "for the survivor and for him, and where the groups are. Add any other name here: a city, a "
    "venue, a member's username that is a real name."
)


class WordsForm(forms.Form):
    def __init__(self, kind: str, drafts: dict[str, ReportDraft], *args, **kwargs):
        initial = {}
        for part, _label in DRAFT_PARTS[kind]:
            draft = drafts.get(part)
            initial[part] = draft.text if draft else ""
            initial[f"revision_{part}"] = draft.revision if draft else 0
        super().__init__(*args, initial=initial, **kwargs)
        self.kind = kind
        for part, label in DRAFT_PARTS[kind]:
            self.fields[part] = forms.CharField(
                label=label,
                required=False,
                max_length=MAX_DRAFT,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 5}),
                help_text=LEFT_OUT_HELP if part == "left_out" else "",
            )
            self.fields[f"revision_{part}"] = forms.IntegerField(
                min_value=0, widget=forms.HiddenInput
            )

    def texts(self) -> dict[str, str]:
        return {part: self.cleaned_data[part] for part, _label in DRAFT_PARTS[self.kind]}

    def revisions(self) -> dict[str, int]:
        return {
            part: self.cleaned_data[f"revision_{part}"] for part, _label in DRAFT_PARTS[self.kind]
        }

    def loaded(self, drafts: dict[str, ReportDraft]) -> None:
        """After a conflict: the member's text stays, the revisions become the current ones."""
        self.data = self.data.copy()
        for part, _label in DRAFT_PARTS[self.kind]:
            draft = drafts.get(part)
            self.data[f"revision_{part}"] = draft.revision if draft else 0
