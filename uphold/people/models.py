"""The people and circles around X: who they are to him, whether they were informed and by whom,
and where they stand towards the demands.

The report's demand 2: X informs every new political environment and sexual partner, "not just
the leaders of political groups, but especially those who are not in the center". He informed
no one himself; the group informed his partner and friends, and friends who stayed "neutral"
let him avoid responsibility. So an informing is kept with who did it and how far it reached,
and a stance with its history, each change dated and linked to the entry that showed it.

Names, notes and answers are under `record`; kinds, relations, dates, who informed, how far and
stances are in clear (under the audit chain), so the figures need no key.
"""

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from uphold.audit.models import Chained
from uphold.crypto.fields import EncryptedTextField


class Kind(models.TextChoices):
    PERSON = "person", _("a person")
    CIRCLE = "circle", _("a circle")


class Relation(models.TextChoices):
    # A person
    PARTNER = "partner", _("partner")
    SEXUAL_PARTNER = "sexual_partner", _("sexual partner")
    FRIEND = "friend", _("friend")
    FAMILY = "family", _("family")
    COLLEAGUE = "colleague", _("colleague")
    POLITICAL_CONTACT = "political_contact", _("political contact")
    OTHER_PERSON = "other_person", _("someone else")
    # A circle
    POLITICAL_GROUP = "political_group", _("political group")
    WORKPLACE = "workplace", _("workplace")
    HOUSING_PROJECT = "housing_project", _("housing project")
    SCENE = "scene", _("scene")
    CITY = "city", _("city")
    OTHER_CIRCLE = "other_circle", _("another circle")


PERSON_RELATIONS = (
    Relation.PARTNER,
    Relation.SEXUAL_PARTNER,
    Relation.FRIEND,
    Relation.FAMILY,
    Relation.COLLEAGUE,
    Relation.POLITICAL_CONTACT,
    Relation.OTHER_PERSON,
)
CIRCLE_RELATIONS = (
    Relation.POLITICAL_GROUP,
    Relation.WORKPLACE,
    Relation.HOUSING_PROJECT,
    Relation.SCENE,
    Relation.CITY,
    Relation.OTHER_CIRCLE,
)
# Whom the informing demand is about: every circle, and his partners (the report's demand 2:
# "every new political environment and sexual partner").
PARTNERS = (Relation.PARTNER, Relation.SEXUAL_PARTNER)


class Stance(models.TextChoices):
    UNKNOWN = "unknown", _("not known")
    SUPPORTS = "supports", _("supports the demands")
    NEUTRAL = "neutral", _("“neutral”")
    HOSTILE = "hostile", _("hostile to the demands")


class InformedBy(models.TextChoices):
    RESPONDENT = "respondent", _("X himself")
    GROUP = "group", _("the group")
    OTHER = "other", _("someone else")


class Reach(models.TextChoices):
    """How far down a circle an informing reached."""

    LEADERS = "leaders", _("only its leaders or centre")
    PART = "part", _("part of it")
    EVERYONE = "everyone", _("everyone in it")


def _day(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


class Person(Chained, models.Model):
    """A person or a circle (a political group, a workplace, a scene …) around X."""

    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    relation = models.CharField(max_length=20, choices=Relation.choices)
    name = EncryptedTextField(_("name or alias"), scope="record")
    notes = EncryptedTextField(_("notes"), scope="record")
    # When X joined the circle or the relationship began, and when it ended.
    joined_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)
    # The latest of its stance changes (StanceChange), kept here so lists need no join.
    stance = models.CharField(max_length=8, choices=Stance.choices, default=Stance.UNKNOWN)
    asked_on = models.DateField(null=True, blank=True)  # asked to support the demands
    answer = EncryptedTextField(_("what they answered"), scope="record")
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["process", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} of process {self.process_id}"

    audit_fixed = frozenset({"process_id", "kind"})

    @property
    def is_circle(self) -> bool:
        return self.kind == Kind.CIRCLE

    @property
    def under_the_demand(self) -> bool:
        """Whether the informing demand covers it: every circle and his partners."""
        return self.is_circle or self.relation in PARTNERS

    def audit_name(self) -> str:
        return _("%(relation)s %(name)s") % {
            "relation": self.get_relation_display(),
            "name": self.name,
        }

    def audit_name_locked(self) -> str:
        return str(self.get_relation_display())


class Informing(Chained, models.Model):
    """That someone told a person or circle about what X did; never changed or deleted."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="informings")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    by = models.CharField(max_length=12, choices=InformedBy.choices)
    # For a circle: how far down it the informing reached; blank for a person.
    reach = models.CharField(max_length=10, choices=Reach.choices, blank=True)
    entry = models.ForeignKey(
        "record.Entry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(scope="record")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"informing {self.pk} of {self.person_id}"

    audit_fixed = frozenset({"process_id", "person_id"})

    def audit_name(self) -> str:
        return _("informing of %(day)s") % {"day": _day(self.on)}

    audit_name_locked = audit_name


class StanceChange(Chained, models.Model):
    """A person's or circle's stance towards the demands from a day on; never changed."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="stances")
    process = models.ForeignKey("processes.Process", on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    stance = models.CharField(max_length=8, choices=Stance.choices)
    entry = models.ForeignKey(
        "record.Entry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(scope="record")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"stance {self.pk} of {self.person_id}"

    audit_fixed = frozenset({"process_id", "person_id"})

    def audit_name(self) -> str:
        return _("change of stance of %(day)s") % {"day": _day(self.on)}

    audit_name_locked = audit_name


class InformingDemand(Chained, models.Model):
    """Which of the process's demands asks X to inform the people around him."""

    process = models.OneToOneField(
        "processes.Process", on_delete=models.CASCADE, related_name="informing_demand"
    )
    demand = models.ForeignKey(
        "demands.Demand", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"informing demand of {self.process_id}"

    audit_fixed = frozenset({"process_id"})

    def audit_name(self) -> str:
        return str(_("the demand about informing"))

    audit_name_locked = audit_name
