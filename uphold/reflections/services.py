"""Every write to reflections and reviews.

- A reflection comes pasted, uploaded as a UTF-8 text file, or copied from a log entry (which
  it links). Its text is sealed in the `record` scope.
- A review scores the five questions (models.QUESTIONS) with quoted passages and a note. Only
  its author changes it; each change keeps the review as it was (ReviewVersion), and a change
  made against an older revision is a conflict.
- Releasing a review copies it under the `survivor` scope: the quoted passages only when the
  member chooses so, since the survivor must not meet X's raw words unless they ask.
  Withdrawing deletes the copy. Both are in the audit chain.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.processes.models import Membership, Process
from uphold.processes.permissions import authorize
from uphold.record.models import Entry

from .models import QUESTION_NAMES, Reflection, ReleasedReview, Review, ReviewVersion, Score, Source

MAX_TEXT = 200_000  # characters of a reflection
MAX_FILE = 1024 * 1024  # bytes of an uploaded reflection
MAX_QUOTES = 20_000
MAX_NOTE = 20_000


class Conflict(Exception):
    """Someone changed the review since the actor loaded it; nothing was written."""


@dataclass
class Answer:
    score: int | None  # None: cannot say
    quotes: str = ""
    note: str = ""


def _too_long(name: str, value: str, limit: int) -> dict[str, list[str]]:
    if len(value) <= limit:
        return {}
    return {
        name: [
            _("This is %(count)s characters; keep it under %(n)s.")
            % {"count": f"{len(value):,}", "n": f"{limit:,}"}
        ]
    }


def text_of_file(data: bytes, size: int | None = None) -> str:
    """An uploaded file's text: UTF-8 (a byte order mark is dropped), at most MAX_FILE bytes.
    `size` is how much arrived, when more came than was kept."""
    size = len(data) if size is None else size
    if size > MAX_FILE:
        raise ValidationError(
            {"file": [_("This file is %(size)s; a reflection file can be at most %(max)s.")
                      % {"size": _size(size), "max": _size(MAX_FILE)}]}
        )  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": [_("This file is not UTF-8 text. Save it as plain text (UTF-8) and "
                        "upload it again, or paste the text instead.")]}
        ) from None  # fmt: skip


def _size(n: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(n))


def add_reflection(
    actor: User,
    process: Process | str,
    *,
    written_on: date,
    source: str,
    text: str = "",
    entry_id: int | None = None,
) -> Reflection:
    """A reflection of X's. From a log entry, its text is the entry's (its summary if the
    entry holds no full text), and the reflection links the entry."""
    membership = authorize(actor, "reflections.write", process)
    errors: dict[str, list[str]] = {}
    entry = None
    if source not in Source.values:
        errors["source"] = [_("Choose how the reflection came from the list.")]
    elif source == Source.ENTRY:
        entry = Entry.objects.filter(process=membership.process, pk=entry_id).first()
        if entry is None:
            errors["entry"] = [_("Give the number of a log entry of this process.")]
        else:
            text = entry.text or entry.summary
    text = (text or "").strip()
    if not errors.get("source") and not errors.get("entry") and not text:
        field = "file" if source == Source.UPLOADED else "text"
        errors[field] = [_("The reflection has no text.")]
    errors |= _too_long("text", text, MAX_TEXT)
    if written_on > timezone.localdate():
        errors["written_on"] = [_("That date is in the future: give the day he wrote it.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        reflection = Reflection.objects.create(
            process=membership.process,
            written_on=written_on,
            source=source,
            entry=entry,
            created_by=actor,
        )
        reflection.text = text  # sealed fields are bound to the row, so it needs its id first
        reflection.save()
        audit.record(actor, membership.process, Kind.CREATE, reflection)
    return reflection


def clean_answers(answers: dict[str, Answer]) -> dict[str, Answer]:
    """Stripped and checked; every problem at once, by field. Changes nothing."""
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name in QUESTION_NAMES:
        answer = answers.get(name) or Answer(None)
        if answer.score is not None and answer.score not in Score.values:
            errors[f"{name}_score"] = [_("Choose a score from the list.")]
        quotes, note = (answer.quotes or "").strip(), (answer.note or "").strip()
        errors |= _too_long(f"{name}_quotes", quotes, MAX_QUOTES)
        errors |= _too_long(f"{name}_note", note, MAX_NOTE)
        cleaned[name] = Answer(answer.score, quotes, note)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _write_answers(row, answers: dict[str, Answer]) -> None:
    for name, answer in answers.items():
        setattr(row, name, answer.score)
        setattr(row, f"{name}_quotes", answer.quotes)
        setattr(row, f"{name}_note", answer.note)


def answers_of(row) -> dict[str, Answer]:
    """The five answers of a review, an earlier version or a released copy."""
    return {
        name: Answer(
            getattr(row, name), getattr(row, f"{name}_quotes"), getattr(row, f"{name}_note")
        )
        for name in QUESTION_NAMES
    }


def _reflection(membership: Membership, reflection_id: int) -> Reflection:
    reflection = Reflection.objects.filter(process=membership.process, pk=reflection_id).first()
    if reflection is None:
        raise Http404
    return reflection


def _review(membership: Membership, review_id: int) -> Review:
    review = (
        Review.objects.select_related("reflection")
        .filter(process=membership.process, pk=review_id)
        .first()
    )
    if review is None:
        raise Http404
    return review


def add_review(
    actor: User, process: Process | str, reflection_id: int, answers: dict[str, Answer]
) -> Review:
    membership = authorize(actor, "reflections.write", process)
    reflection = _reflection(membership, reflection_id)
    answers = clean_answers(answers)
    with transaction.atomic():
        review = Review.objects.create(
            reflection=reflection, process=membership.process, author=actor
        )
        _write_answers(review, answers)
        review.save()
        audit.record(actor, membership.process, Kind.CREATE, review)
    return review


def may_edit(user: User, review: Review) -> bool:
    """A review is its author's reading: only they change it."""
    return review.author_id == user.pk


def edit_review(
    actor: User,
    process: Process | str,
    review_id: int,
    answers: dict[str, Answer],
    *,
    base_revision: int,
) -> Review:
    """Replaces the author's answers, keeping the review as it was as a version."""
    membership = authorize(actor, "reflections.write", process)
    review = _review(membership, review_id)
    if not may_edit(actor, review):
        raise PermissionDenied(_("Only the member who wrote a review changes it."))
    answers = clean_answers(answers)
    with transaction.atomic():
        if not Review.objects.filter(pk=review.pk, revision=base_revision).update(
            revision=base_revision + 1
        ):
            raise Conflict
        version = ReviewVersion.objects.create(
            review=review,
            process=review.process,
            revision=base_revision,
            written_at=review.changed_at,
        )
        _write_answers(version, answers_of(review))
        version.save()
        audit.record(actor, review.process, Kind.CREATE, version)
        review.revision, review.changed_at = base_revision + 1, timezone.now()
        _write_answers(review, answers)
        review.save()
        audit.record(actor, review.process, Kind.CHANGE, review)
    return review


def release(
    actor: User, process: Process | str, review_id: int, *, with_quotes: bool
) -> ReleasedReview:
    """Copies the review as it is now into the survivor's scope (replacing an earlier copy).
    The reviewer's name is not copied."""
    membership = authorize(actor, "reviews.release", process)
    review = _review(membership, review_id)
    answers = answers_of(review)
    if not with_quotes:
        answers = {name: Answer(a.score, "", a.note) for name, a in answers.items()}
    with transaction.atomic():
        copy = ReleasedReview.objects.filter(review=review).first() or ReleasedReview(
            review=review, process=review.process
        )
        copy.written_on, copy.revision = review.reflection.written_on, review.revision
        copy.with_quotes, copy.released_by, copy.released_at = with_quotes, actor, timezone.now()
        if copy.pk is None:
            copy.save()
        _write_answers(copy, answers)
        copy.save()
        audit.record(actor, review.process, Kind.RELEASE, copy)
    return copy


def withdraw(actor: User, process: Process | str, review_id: int) -> None:
    """Deletes the survivor's side's copy of the review; the review itself stays."""
    membership = authorize(actor, "reviews.release", process)
    review = _review(membership, review_id)
    with transaction.atomic():
        copy = ReleasedReview.objects.filter(review=review).first()
        if copy is None:
            raise ValidationError(_("This review is not released."))
        audit.record(actor, review.process, Kind.DELETE, copy)
        copy.delete()
