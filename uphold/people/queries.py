"""Reads for the people pages, each in a fixed number of queries however many people."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from uphold.crypto.keyring import NoKey
from uphold.processes.models import Process
from uphold.record.models import Entry

from .models import (
    CIRCLE_RELATIONS,
    PARTNERS,
    InformedBy,
    Informing,
    InformingDemand,
    Kind,
    Person,
    Reach,
)

PEOPLE_PAGE = 25
ENTRIES_PAGE = 25
# The entry form offers the people and circles most recently added (and those it already
# links): a bounded list, so the form costs the same however many people the record holds.
OFFERED = 40

REACH_ORDER = {"": 0, Reach.LEADERS: 1, Reach.PART: 2, Reach.EVERYONE: 3}


class Standing:
    """Where a person or circle stands under the informing demand."""

    MET = "met"  # X informed them (a circle: everyone in it)
    PARTLY = "partly"  # X informed a circle only at the top, or only part of it
    OTHERS_ONLY = "others_only"  # informed, but not by X
    UNINFORMED = "uninformed"


@dataclass
class Informed:
    """What the informings of one person or circle add up to."""

    by_x: str = ""  # how far X's own informing reached: a Reach, "everyone" for a person
    by: set[str] = field(default_factory=set)  # who informed them at all (InformedBy)
    standing: str = Standing.UNINFORMED

    @property
    def why(self) -> str:
        """In words, for the informing page and the person's page."""
        if self.standing == Standing.MET:
            return _("Informed by X.")
        if self.standing == Standing.PARTLY:
            if self.by_x == Reach.LEADERS:
                return _(
                    "X informed only its leaders or centre, not the people who are not in the "
                    "centre: the demand is not met."
                )
            return _("X informed only part of it: the demand is not met.")
        if self.standing == Standing.OTHERS_ONLY:
            return _(
                "Informed, but not by X. Informing is X's duty: the group's informing does not "
                "count as his, so the demand is not met."
            )
        return _("Not informed yet.")


def informed(person: Person, rows: list[tuple[str, str]]) -> Informed:
    """`rows` are (by, reach) of the person's informings."""
    result = Informed(by={by for by, _reach in rows})
    for by, reach in rows:
        if by == InformedBy.RESPONDENT:
            reach = reach if person.is_circle else Reach.EVERYONE
            if REACH_ORDER.get(reach, 0) > REACH_ORDER.get(result.by_x, 0):
                result.by_x = reach
    if result.by_x == Reach.EVERYONE:
        result.standing = Standing.MET
    elif result.by_x:
        result.standing = Standing.PARTLY
    elif result.by:
        result.standing = Standing.OTHERS_ONLY
    return result


def informed_of(people: list[Person]) -> dict[int, Informed]:
    """Each person's informings, in one query for all of them."""
    rows: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for person_id, by, reach in Informing.objects.filter(
        person_id__in=[p.pk for p in people], process__in={p.process_id for p in people}
    ).values_list("person_id", "by", "reach"):
        rows[person_id].append((by, reach))
    return {person.pk: informed(person, rows[person.pk]) for person in people}


def people_of(process: Process, kind: str = "") -> QuerySet[Person]:
    found = Person.objects.filter(process=process)
    if kind in Kind.values:
        found = found.filter(kind=kind)
    return found.order_by("-pk")


def people_page(process: Process, kind: str, offset: int, limit: int = PEOPLE_PAGE) -> list[dict]:
    """One page of the people and circles, newest first, with how each was informed."""
    people = list(people_of(process, kind).defer("notes", "answer")[offset : offset + limit])
    standing = informed_of(people)
    return [{"person": p, "informed": standing[p.pk]} for p in people]


def about(person: Person) -> QuerySet[Entry]:
    """The log entries linked to the person, of its own process only."""
    return person.entries.filter(process=person.process_id)


def entries_about(person: Person, offset: int, limit: int = ENTRIES_PAGE) -> list[Entry]:
    return list(
        about(person)
        .order_by("-occurred_on", "-pk")
        .select_related("by")
        .defer("text", "people")[offset : offset + limit]
    )


@dataclass
class InformingView:
    """The informing demand at a glance: the circles and partners, grouped by standing."""

    demand: object  # the Demand it follows, or None if the group has not said which
    groups: dict[str, list[dict]]
    counted: int
    by_x: int
    by_group: int

    @property
    def met(self) -> bool:
        return self.counted > 0 and len(self.groups[Standing.MET]) == self.counted

    @property
    def open_because(self) -> list[str]:
        """Why the demand is still open, one line per kind of reason (none when it is met)."""
        if self.counted == 0:
            return [_("No circles or partners of X are listed yet.")]
        reasons = []
        counts = {code: len(rows) for code, rows in self.groups.items()}
        if counts[Standing.UNINFORMED]:
            reasons.append(_("%(n)s not informed by anyone.") % {"n": counts[Standing.UNINFORMED]})
        if counts[Standing.OTHERS_ONLY]:
            reasons.append(
                _("%(n)s informed only by the group or others, not by X.")
                % {"n": counts[Standing.OTHERS_ONLY]}
            )
        if counts[Standing.PARTLY]:
            reasons.append(
                _("%(n)s informed by X only at the top or in part.")
                % {"n": counts[Standing.PARTLY]}
            )
        return reasons


def counted_people(process: Process) -> QuerySet[Person]:
    """Whom the informing demand is about: every circle and every partner."""
    return Person.objects.filter(process=process).filter(
        Q(kind=Kind.CIRCLE) | Q(relation__in=PARTNERS)
    )


def tally(standing: list[Informed]) -> dict[str, int]:
    """How many X informed (at any reach), the group informed, and nobody informed."""
    return {
        InformedBy.RESPONDENT: sum(InformedBy.RESPONDENT in s.by for s in standing),
        InformedBy.GROUP: sum(InformedBy.GROUP in s.by for s in standing),
        Standing.UNINFORMED: sum(s.standing == Standing.UNINFORMED for s in standing),
        "counted": len(standing),
    }


def informing_view(process: Process) -> InformingView:
    """Every circle and every partner, in four queries however many there are."""
    people = list(counted_people(process).defer("notes", "answer").order_by("-pk"))
    standing = informed_of(people)
    order = (Standing.UNINFORMED, Standing.OTHERS_ONLY, Standing.PARTLY, Standing.MET)
    groups: dict[str, list[dict]] = {code: [] for code in order}
    for person in people:
        groups[standing[person.pk].standing].append(
            {"person": person, "informed": standing[person.pk]}
        )
    chosen = InformingDemand.objects.filter(process=process).select_related("demand").first()
    counts = tally(list(standing.values()))
    return InformingView(
        demand=chosen.demand if chosen else None,
        groups=groups,
        counted=counts["counted"],
        by_x=counts[InformedBy.RESPONDENT],
        by_group=counts[InformedBy.GROUP],
    )


def offered(process: Process, also: list[int] | None = None) -> list[tuple[int, str]]:
    """(id, label) of the people and circles an entry form offers to link."""
    rows = list(people_of(process).only("pk", "process", "kind", "relation", "name")[:OFFERED])
    known = {p.pk for p in rows}
    if also:
        rows += list(
            Person.objects.filter(process=process, pk__in=set(also) - known).only(
                "pk", "process", "kind", "relation", "name"
            )
        )
    return [(p.pk, person_label(p)) for p in rows]


def person_label(person: Person) -> str:
    try:
        name = person.name
    except NoKey:
        name = ""
    return _("%(name)s (%(relation)s)") % {
        "name": name or _("(name not readable)"),
        "relation": person.get_relation_display(),
    }


def is_circle_relation(relation: str) -> bool:
    return relation in CIRCLE_RELATIONS
