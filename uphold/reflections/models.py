"""X's reflections and the contact group's reviews of them, against the report's five questions.

A reflection's text and a review's quoted passages and notes are sealed in the `record` scope:
only the support and contact groups read them. The scores are small numbers in clear (under the
audit chain), so the patterns over time (uphold/figures.py) need no key. A review released to
the survivor's side is a copy, sealed again under the `survivor` scope (DESIGN.md, "Releasing
an item to another scope re-encrypts a copy"); withdrawing the release deletes the copy.
"""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField


def _day(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


class Source(models.TextChoices):
    PASTED = "pasted", _("pasted in")
    UPLOADED = "uploaded", _("uploaded as a text file")
    ENTRY = "entry", _("taken from a log entry")


class Score(models.IntegerChoices):
    """How clearly a reflection shows what a question asks. "Cannot say" is stored as NULL, so
    it never counts towards a mean."""

    NOT_AT_ALL = 0, _("not at all")
    PARTLY = 1, _("partly")
    CLEARLY = 2, _("clearly")


# The report's questions, in its order: (column, question). The last one scores the other way
# round: "clearly" there is a bad sign.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("responsibility", _("Does he take responsibility for what he did?")),
    ("recall", _("Does he recall the acts, in his own words?")),
    ("gain", _("Does he name what he gained from the abuse?")),
    ("empathy", _("Does he show empathy for the survivor?")),
    ("centring", _("Does he centre himself and his own hardship?")),
)
QUESTION_NAMES = tuple(name for name, _question in QUESTIONS)
REVERSED = frozenset({"centring"})


def answer_columns(scope: str) -> dict[str, models.Field]:
    """For each question: its score (clear), the quoted passages and a note (sealed)."""
    columns: dict[str, models.Field] = {}
    for name in QUESTION_NAMES:
        columns[name] = models.PositiveSmallIntegerField(
            choices=Score.choices, null=True, blank=True
        )
        columns[f"{name}_quotes"] = EncryptedTextField(scope=scope)
        columns[f"{name}_note"] = EncryptedTextField(scope=scope)
    return columns


def _abstract(name: str, scope: str) -> type[models.Model]:
    meta = type("Meta", (), {"abstract": True})
    return type(
        name, (models.Model,), {"__module__": __name__, "Meta": meta, **answer_columns(scope)}
    )


# The five answers, in the group's scope (a review and its earlier versions) and in the
# survivor's (a released copy).
GroupAnswers = _abstract("GroupAnswers", "record")
SurvivorAnswers = _abstract("SurvivorAnswers", "survivor")


class Reflection(Chained, models.Model):
    """A text X sent the group about what he did. Shown as text, never as HTML."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="reflections"
    )
    written_on = models.DateField(_("its date"))
    source = models.CharField(_("how it came"), max_length=10, choices=Source.choices)
    # The log entry it was taken from, if it was.
    entry = models.ForeignKey(
        "record.Entry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = EncryptedTextField(_("his text"), scope="record")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-written_on", "-pk"]
        indexes = [models.Index(fields=["process", "written_on"])]

    def __str__(self) -> str:
        return f"reflection {self.pk} of {self.process}"

    def audit_name(self) -> str:
        return _("reflection of %(day)s") % {"day": _day(self.written_on)}

    audit_name_locked = audit_name


class Review(Chained, GroupAnswers):
    """One contact member's reading of a reflection. Only its author changes it; each change
    keeps the review as it was (ReviewVersion) and raises the revision."""

    reflection = models.ForeignKey(Reflection, on_delete=models.PROTECT, related_name="reviews")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["reflection", "pk"]

    def __str__(self) -> str:
        return f"review {self.pk} of {self.reflection}"

    audit_related = ("reflection", "author")

    def audit_name(self) -> str:
        return _("review by %(name)s of the reflection of %(day)s") % {
            "name": self.author.username if self.author else "?",
            "day": _day(self.reflection.written_on),
        }

    audit_name_locked = audit_name


class ReviewVersion(Chained, GroupAnswers):
    """A review as it was before an edit; never changed or deleted."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="versions")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField()
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "revision"], name="one_review_version")
        ]
        ordering = ["review", "-revision"]

    def __str__(self) -> str:
        return f"version {self.revision} of {self.review}"

    audit_related = ("review__reflection",)

    def audit_name(self) -> str:
        return _("earlier version of a review of the reflection of %(day)s") % {
            "day": _day(self.review.reflection.written_on)
        }

    audit_name_locked = audit_name


class ReleasedReview(Chained, SurvivorAnswers):
    """The survivor's side's copy of one review, sealed under `survivor`. The quoted passages
    of X's words are copied only if the releasing member chose so; the reviewer's name is not
    copied at all."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="released")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    # The reflection's date, in clear, so the survivor's page needs none of the group's rows.
    written_on = models.DateField()
    revision = models.PositiveIntegerField()
    with_quotes = models.BooleanField(default=False)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-written_on", "-pk"]

    def __str__(self) -> str:
        return f"released copy of {self.review}"

    def audit_name(self) -> str:
        return _("review released to the survivor's side, of the reflection of %(day)s") % {
            "day": _day(self.written_on)
        }

    audit_name_locked = audit_name
