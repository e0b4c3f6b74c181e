"""Every write to the letter and the demands. The ownership rules of the survivor's side live
here, so the web pages, the command line and the importers all obey them.

- Wording, reasons and criteria change only through a ChangeProposal that a survivor or
  support member approves. Contact members may propose, never apply.
- Only the survivor's side may mark a demand met or withdrawn; contact members record evidence
  and may mark it in progress or refused by X.
- Every applied version is kept; a proposal that drops criteria, or that its proposer calls
  softer, is labelled as softening for whoever answers it.
- The letter is saved as a new version each time, by a compare-and-swap on `Letter.revision`;
  the version handed over to X is marked as sent and stays marked.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.processes.models import Membership, Process
from uphold.processes.permissions import SURVIVOR_SIDE, authorize

from .models import (
    Answer,
    AnswerKind,
    ChangeProposal,
    Demand,
    DemandVersion,
    Letter,
    LetterVersion,
    Progress,
    ProposalState,
    Status,
)
from .tasks import notify_survivor_side

MAX_WORDING = 2_000
MAX_REASONS = 20_000
MAX_CRITERIA = 50
MAX_CRITERION = 1_000
MAX_NOTE = 20_000
MAX_LETTER = 200_000

# What a contact member may set a demand's status to; the survivor's side may set any.
CONTACT_STATUSES = frozenset({Status.IN_PROGRESS, Status.REFUSED})


class Conflict(Exception):
    """Someone else changed the demand since the actor loaded it; nothing was written."""


def criteria_lines(text: str) -> list[str]:
    """One criterion per non-empty line, without list bullets."""
    lines = (line.strip().lstrip("-*•").strip() for line in (text or "").splitlines())
    return [line for line in lines if line]


def clean_texts(wording: str, reasons: str, criteria: str) -> tuple[str, str, str]:
    """Stripped texts, criteria one per line; every problem at once, by field."""
    wording, reasons = (wording or "").strip(), (reasons or "").strip()
    lines = criteria_lines(criteria)
    errors: dict[str, list[str]] = {}
    if not wording:
        errors["wording"] = [_("Write what is demanded.")]
    elif len(wording) > MAX_WORDING:
        errors["wording"] = [_("Keep the wording under %(n)s characters.") % {"n": MAX_WORDING}]
    if len(reasons) > MAX_REASONS:
        errors["reasons"] = [_("Keep the reasons under %(n)s characters.") % {"n": MAX_REASONS}]
    if not lines:
        errors["criteria"] = [_("Give at least one criterion: what counts as met.")]
    elif len(lines) > MAX_CRITERIA:
        errors["criteria"] = [
            _("That is %(count)s criteria; give at most %(n)s, one per line.")
            % {"count": len(lines), "n": MAX_CRITERIA}
        ]
    elif any(len(line) > MAX_CRITERION for line in lines):
        errors["criteria"] = [
            _("Keep each criterion under %(n)s characters.") % {"n": MAX_CRITERION}
        ]
    if errors:
        raise ValidationError(errors)
    return wording, reasons, "\n".join(lines)


def _demand(membership: Membership, number: int) -> Demand:
    demand = Demand.objects.filter(process=membership.process, number=number).first()
    if demand is None:
        raise Http404
    return demand


def _on_survivor_side(membership: Membership) -> bool:
    return membership.role in SURVIVOR_SIDE


def settable_statuses(membership: Membership, current: str) -> list[str]:
    """The statuses this member may give a demand that now has `current` (keeping it counts)."""
    if _on_survivor_side(membership):
        return list(Status.values)
    return [current, *(s for s in Status.values if s in CONTACT_STATUSES and s != current)]


def _clean_letter_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("Write or paste the text of the letter.")]})
    if len(text) > MAX_LETTER:
        raise ValidationError({"text": [_("The letter is too long to store.")]})
    return text


def save_letter(actor: User, process: Process | str, text: str, *, base_revision: int) -> Letter:
    """A new wording of the letter, kept as its next version with who saved it and when.

    `base_revision` is the version the member saw (0: there was no letter yet). A save against
    an older wording is a Conflict: it would replace a wording its author never saw.
    """
    membership = authorize(actor, "letter.edit", process)
    text = _clean_letter_text(text)
    letter = Letter.objects.filter(process=membership.process).first()
    if (letter.revision if letter else 0) != base_revision:
        raise Conflict
    if letter is not None and letter.text == text:
        raise ValidationError(
            {"text": [_("This is the letter's current wording: there is nothing new to save.")]}
        )
    now = timezone.now()
    with transaction.atomic():
        if letter is None:
            # Two first saves at once: the second finds the letter there and is a conflict.
            Process.objects.select_for_update().filter(pk=membership.process.pk).first()
            if Letter.objects.filter(process=membership.process).exists():
                raise Conflict
            letter = Letter.objects.create(process=membership.process, updated_at=now)
            letter.text = text
            letter.save(update_fields=["text"])
            audit.record(actor, membership.process, Kind.CREATE, letter)
        else:
            updated = Letter.objects.filter(pk=letter.pk, revision=base_revision).update(
                revision=base_revision + 1, updated_at=now
            )
            if not updated:
                raise Conflict
            letter = Letter.objects.get(pk=letter.pk)
            _copy_carried_over(actor, letter, base_revision)
            letter.text = text
            letter.save(update_fields=["text"])
            audit.record(actor, membership.process, Kind.CHANGE, letter)
        version = LetterVersion.objects.create(
            letter=letter,
            process=letter.process,
            revision=letter.revision,
            saved_by=actor,
            saved_at=now,
        )
        version.text = text
        version.save(update_fields=["text"])
        audit.record(actor, letter.process, Kind.CREATE, version)
    return letter


def _copy_carried_over(actor: User, letter: Letter, revision: int) -> None:
    """A version carried over by the migration gets its own copy of the letter's text before
    the letter changes (while it is the current version, the two are the same)."""
    version = LetterVersion.objects.filter(
        letter=letter, revision=revision, carried_over=True
    ).first()
    if version is None:
        return
    version.text, version.handed_to = letter.text, letter.handed_to
    version.carried_over = False
    version.save(update_fields=["text", "handed_to", "carried_over"])
    audit.record(actor, letter.process, Kind.CHANGE, version)


def mark_sent(
    actor: User,
    process: Process | str,
    *,
    revision: int,
    handed_over_on: date | None,
    handed_to: str,
) -> LetterVersion:
    """Marks the current version as the letter handed over to X, on that day, to those people.

    The mark stays on that version whatever is saved after it. `revision` is the version the
    member saw: if the letter changed since, it is a Conflict, so a wording nobody checked is
    never marked as sent.
    """
    membership = authorize(actor, "letter.hand_over", process)
    handed_to = (handed_to or "").strip()
    errors: dict[str, list[str]] = {}
    if handed_over_on is None:
        errors["handed_over_on"] = [_("Give the day it was handed over.")]
    elif handed_over_on > timezone.localdate():
        errors["handed_over_on"] = [_("That date is in the future.")]
    if not handed_to:
        errors["handed_to"] = [_("Say to whom, and how, it was handed over.")]
    elif len(handed_to) > MAX_NOTE:
        errors["handed_to"] = [_("Keep this under %(n)s characters.") % {"n": MAX_NOTE}]
    if errors:
        raise ValidationError(errors)
    letter = Letter.objects.filter(process=membership.process).first()
    if letter is None:
        raise ValidationError(_("There is no letter yet: enter it first."))
    if letter.revision != revision:
        raise Conflict
    version = LetterVersion.objects.filter(letter=letter, revision=revision).first()
    if version is None:
        raise Http404
    with transaction.atomic():
        # The letter must still be at that version, and the version not yet marked (a second
        # member marking it at the same moment), when the mark is written.
        if not Letter.objects.filter(pk=letter.pk, revision=revision).update(
            handed_over_on=handed_over_on
        ):
            raise Conflict
        letter = Letter.objects.get(pk=letter.pk)
        _copy_carried_over(actor, letter, revision)
        if not LetterVersion.objects.filter(pk=version.pk, sent=False).update(
            sent=True, handed_over_on=handed_over_on
        ):
            raise ValidationError(_("This version is already marked as the letter as sent."))
        version.refresh_from_db()
        version.handed_to = handed_to
        version.save(update_fields=["handed_to"])
        audit.record(actor, letter.process, Kind.CHANGE, version)
        letter.handed_to = handed_to
        letter.save(update_fields=["handed_to"])
        audit.record(actor, letter.process, Kind.CHANGE, letter)
    return version


def add_demand(
    actor: User, process: Process | str, wording: str, reasons: str, criteria: str
) -> Demand:
    """The survivor's side adds a demand; it gets the next number and its first version."""
    membership = authorize(actor, "demands.author", process)
    wording, reasons, criteria = clean_texts(wording, reasons, criteria)
    with transaction.atomic():
        # Two demands added at once must not get the same number.
        Process.objects.select_for_update().filter(pk=membership.process.pk).first()
        last = Demand.objects.filter(process=membership.process).aggregate(n=Max("number"))["n"]
        demand = Demand.objects.create(process=membership.process, number=(last or 0) + 1)
        demand.wording, demand.reasons, demand.criteria = wording, reasons, criteria
        demand.save()
        audit.record(actor, membership.process, Kind.CREATE, demand)
        _keep_version(demand, None, actor, actor, "")
    return demand


def _keep_version(
    demand: Demand, proposal: ChangeProposal | None, proposer, approver, why: str
) -> DemandVersion:
    version = DemandVersion.objects.create(
        demand=demand,
        process=demand.process,
        revision=demand.revision,
        proposal=proposal,
        proposed_by=proposer,
        approved_by=approver,
    )
    version.wording, version.reasons, version.criteria = (
        demand.wording,
        demand.reasons,
        demand.criteria,
    )
    version.why = why
    version.save()
    audit.record(approver, demand.process, Kind.CREATE, version)
    return version


def dropped_criteria(before: str, after: str) -> int:
    kept = set(criteria_lines(after))
    return sum(1 for line in criteria_lines(before) if line not in kept)


def propose_change(
    actor: User,
    process: Process | str,
    number: int,
    *,
    wording: str,
    reasons: str,
    criteria: str,
    why: str,
    softer: bool,
    base_revision: int,
    apply_now: bool = False,
) -> ChangeProposal:
    """A proposal against the revision the proposer saw.

    `apply_now` is for the survivor's side only: they propose and approve in one step.
    """
    membership = authorize(actor, "demands.propose", process)
    if apply_now and not _on_survivor_side(membership):
        raise PermissionDenied(_("Only the survivor's side can change a demand directly."))
    demand = _demand(membership, number)
    wording, reasons, criteria = clean_texts(wording, reasons, criteria)
    why = (why or "").strip()
    if not why:
        raise ValidationError({"why": [_("Say why the demand should change.")]})
    if len(why) > MAX_NOTE:
        raise ValidationError({"why": [_("Keep this under %(n)s characters.") % {"n": MAX_NOTE}]})
    if base_revision != demand.revision:
        raise Conflict
    if (wording, reasons, criteria) == (demand.wording, demand.reasons, demand.criteria):
        raise ValidationError(_("This proposal changes nothing in the demand."))
    with transaction.atomic():
        proposal = ChangeProposal.objects.create(
            demand=demand,
            process=demand.process,
            base_revision=base_revision,
            proposer_says_softer=softer,
            drops_criteria=dropped_criteria(demand.criteria, criteria),
            proposed_by=actor,
        )
        proposal.wording, proposal.reasons, proposal.criteria, proposal.why = (
            wording,
            reasons,
            criteria,
            why,
        )
        proposal.save()
        audit.record(actor, demand.process, Kind.PROPOSE, proposal)
        if apply_now:
            # What `decide` returns is the proposal as it is now: approved and applied.
            proposal = decide(actor, demand.process, proposal.pk, approve=True, answer="")
        else:
            notify_survivor_side.enqueue(demand.process.code, demand.number)
    return proposal


def decide(
    actor: User, process: Process | str, proposal_id: int, *, approve: bool, answer: str
) -> ChangeProposal:
    """A survivor or support member approves or refuses a waiting proposal.

    Approving a proposal made against an older revision is a conflict: the demand changed
    since, and applying it would undo that change unseen.
    """
    membership = authorize(actor, "demands.decide", process)
    proposal = (
        ChangeProposal.objects.select_related("demand")
        .filter(process=membership.process, pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise Http404
    answer = (answer or "").strip()
    if len(answer) > MAX_NOTE:
        raise ValidationError(
            {"answer": [_("Keep this under %(n)s characters.") % {"n": MAX_NOTE}]}
        )
    with transaction.atomic():
        claimed = ChangeProposal.objects.filter(pk=proposal.pk, state=ProposalState.WAITING).update(
            state=ProposalState.APPROVED if approve else ProposalState.REFUSED,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        if not claimed:
            raise ValidationError(_("Someone has already answered this proposal."))
        proposal.refresh_from_db(fields=["state", "decided_by", "decided_at"])
        proposal.answer = answer
        proposal.save(update_fields=["answer"])
        if approve:
            _apply(actor, proposal)
        audit.record(actor, proposal.process, Kind.APPROVE if approve else Kind.REFUSE, proposal)
    return proposal


def _apply(actor: User, proposal: ChangeProposal) -> None:
    base = proposal.base_revision
    if not Demand.objects.filter(pk=proposal.demand_id, revision=base).update(revision=base + 1):
        raise Conflict
    demand = Demand.objects.get(pk=proposal.demand_id)
    demand.wording, demand.reasons, demand.criteria = (
        proposal.wording,
        proposal.reasons,
        proposal.criteria,
    )
    demand.save(update_fields=["wording", "reasons", "criteria"])
    audit.record(actor, demand.process, Kind.CHANGE, demand)
    _keep_version(demand, proposal, proposal.proposed_by, actor, proposal.why)


def record_progress(
    actor: User, process: Process | str, number: int, *, note: str, status: str, status_seen: str
) -> Progress:
    """Evidence on a demand, maybe with a new status; `status_seen` guards against a
    concurrent change."""
    membership = authorize(actor, "demands.progress", process)
    demand = _demand(membership, number)
    if status not in Status.values:
        raise ValidationError({"status": [_("Choose a status from the list.")]})
    if status not in settable_statuses(membership, status_seen):
        raise PermissionDenied(
            _("Only the survivor's side can mark a demand met, withdrawn or open.")
        )
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Describe what happened, or the evidence.")]})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": [_("Keep this under %(n)s characters.") % {"n": MAX_NOTE}]})
    with transaction.atomic():
        if not Demand.objects.filter(pk=demand.pk, status=status_seen).update(status=status):
            raise Conflict
        progress = Progress.objects.create(
            demand=demand,
            process=demand.process,
            status_before=status_seen,
            status_after=status,
            recorded_by=actor,
        )
        progress.note = note
        progress.save()
        audit.record(actor, demand.process, Kind.CREATE, progress)
        if status != status_seen:
            audit.record(actor, demand.process, Kind.CHANGE, demand)
    return progress


def record_answer(
    actor: User,
    process: Process | str,
    number: int,
    *,
    kind: str,
    said_on: date,
    note: str,
    entry_id: int | None = None,
) -> Answer:
    """What X said about a demand, on which day, and where in the log (if it is there)."""
    from uphold.record.models import Entry

    membership = authorize(actor, "demands.answer", process)
    demand = _demand(membership, number)
    entry = None
    if entry_id is not None:
        entry = Entry.objects.filter(process=membership.process, pk=entry_id).first()
        if entry is None:
            raise ValidationError({"entry": [_("Choose an entry of this process's log.")]})
    if kind not in AnswerKind.values:
        raise ValidationError({"kind": [_("Choose an answer from the list.")]})
    if said_on > timezone.localdate():
        raise ValidationError({"said_on": [_("That date is in the future.")]})
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": [_("Keep this under %(n)s characters.") % {"n": MAX_NOTE}]})
    with transaction.atomic():
        answer = Answer.objects.create(
            demand=demand,
            process=demand.process,
            kind=kind,
            said_on=said_on,
            entry=entry,
            recorded_by=actor,
        )
        answer.note = note
        answer.save()
        audit.record(actor, demand.process, Kind.CREATE, answer)
    return answer
