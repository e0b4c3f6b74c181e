"""Reads for the letter and demand pages, in a number of queries that does not grow with them."""

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q

from uphold.attachments.models import Attachment
from uphold.processes import scopes
from uphold.processes.models import Membership, Process
from uphold.processes.permissions import allowed

from .models import (
    Answer,
    AnswerKind,
    ChangeProposal,
    Demand,
    DemandVersion,
    Letter,
    LetterVersion,
    Progress,
)

TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass
class Segment:
    """A piece of a readable diff: kept, removed or added text."""

    text: str
    change: str = ""  # "", "removed" or "added"


def diff(before: str, after: str) -> list[Segment]:
    """Word by word, the way a person compares two wordings."""
    old, new = TOKENS.findall(before or ""), TOKENS.findall(after or "")
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(Segment("".join(old[a1:a2])))
            continue
        if a2 > a1:
            segments.append(Segment("".join(old[a1:a2]), "removed"))
        if b2 > b1:
            segments.append(Segment("".join(new[b1:b2]), "added"))
    return segments


def criteria_diff(before: str, after: str) -> list[Segment]:
    """Criterion by criterion: each line kept, removed or added."""
    old, new = (before or "").splitlines(), (after or "").splitlines()
    kept = set(new)
    rows = [Segment(line, "" if line in kept else "removed") for line in old]
    rows += [Segment(line, "added") for line in new if line not in set(old)]
    return rows


@dataclass
class Changes:
    wording: list[Segment]
    reasons: list[Segment]
    criteria: list[Segment]


def changes(before, after) -> Changes:
    """What differs between two things that each have wording, reasons and criteria."""
    return Changes(
        diff(before.wording, after.wording),
        diff(before.reasons, after.reasons),
        criteria_diff(before.criteria, after.criteria),
    )


@dataclass
class DemandRow:
    demand: Demand
    criteria: list[str]
    waiting: int = 0


@dataclass
class LetterVersionRow:
    """One wording of the letter as a page shows it; `saved_by` only for those who may see who
    wrote what (the survivor's side and the contact group)."""

    version: LetterVersion
    current: bool
    saved_by: str | None


def _version_row(
    membership: Membership, letter: Letter, version: LetterVersion
) -> LetterVersionRow:
    saved_by = version.saved_by.username if version.saved_by else None
    return LetterVersionRow(
        version,
        version.revision == letter.revision,
        saved_by if _sees_history(membership) else None,
    )


def _version_rows(membership: Membership, letter: Letter) -> list[LetterVersionRow]:
    versions = LetterVersion.objects.filter(letter=letter).select_related("saved_by")
    return [_version_row(membership, letter, v) for v in versions.order_by("-revision")]


def letter_page(membership: Membership) -> dict:
    process = membership.process
    letter = Letter.objects.filter(process=process).first()
    demands = list(
        Demand.objects.filter(process=process).annotate(
            waiting=Count("proposals", filter=Q(proposals__state="waiting"))
        )
    )
    waiting_shown = _sees_history(membership)
    versions = _version_rows(membership, letter) if letter else []
    sent = next((row for row in versions if row.version.sent), None)
    return {
        "letter": letter,
        "current_version": next((row for row in versions if row.current), None),
        # The newest version handed over to X, and to whom (earlier ones keep their mark too).
        "sent_version": sent,
        "sent_to": sent.version.texts(letter)[1] if sent else "",
        "earlier_versions": [row for row in versions if not row.current],
        "documents": list(
            Attachment.objects.filter(process=process, scope=scopes.SHARED, complete=True)
        ),
        "demands": [
            DemandRow(d, d.criteria.splitlines(), d.waiting if waiting_shown else 0)
            for d in demands
        ],
    }


def letter_version(membership: Membership, revision: int) -> dict | None:
    """One wording of the letter, read-only, with whether it was sent; None if there is none."""
    letter = Letter.objects.filter(process=membership.process).first()
    if letter is None:
        return None
    version = (
        LetterVersion.objects.filter(letter=letter, revision=revision)
        .select_related("saved_by")
        .first()
    )
    if version is None:
        return None
    text, handed_to = version.texts(letter)
    return {
        "letter": letter,
        "row": _version_row(membership, letter, version),
        "text": text,
        "handed_to": handed_to,
    }


def _sees_history(membership: Membership) -> bool:
    return allowed(membership, "demands.history")


@dataclass
class VersionRow:
    version: DemandVersion
    changes: Changes | None


@dataclass
class DemandPage:
    demand: Demand
    criteria: list[str]
    versions: list[VersionRow] = field(default_factory=list)
    proposals: list[tuple[ChangeProposal, Changes | None]] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    answer_counts: list[tuple[str, int]] = field(default_factory=list)


def demand_page(membership: Membership, demand: Demand) -> DemandPage:
    page = DemandPage(demand, demand.criteria.splitlines())
    if _sees_history(membership):
        versions = list(
            DemandVersion.objects.filter(demand=demand)
            .select_related("proposed_by", "approved_by")
            .order_by("revision")
        )
        by_revision = {v.revision: v for v in versions}
        page.versions = [
            VersionRow(v, changes(by_revision[v.revision - 1], v) if v.revision > 1 else None)
            for v in reversed(versions)
        ]
        for proposal in ChangeProposal.objects.filter(demand=demand).select_related(
            "proposed_by", "decided_by"
        ):
            base = by_revision.get(proposal.base_revision)
            page.proposals.append((proposal, changes(base, proposal) if base else None))
        page.progress = list(Progress.objects.filter(demand=demand).select_related("recorded_by"))
    if allowed(membership, "demands.answers"):
        page.answers = list(Answer.objects.filter(demand=demand).select_related("recorded_by"))
        counted = Counter(a.kind for a in page.answers)
        page.answer_counts = [(kind.label, counted[kind]) for kind in AnswerKind if counted[kind]]
    return page


def proposal_with_changes(proposal: ChangeProposal) -> Changes | None:
    base = DemandVersion.objects.filter(
        demand=proposal.demand_id, revision=proposal.base_revision
    ).first()
    return changes(base, proposal) if base else None


def for_choices(process: Process) -> list[Demand]:
    """A process's demands with what a list of choices shows (number, start of the wording)."""
    return list(Demand.objects.filter(process=process).only("pk", "number", "process", "wording"))
