"""Reads for the reflections pages, each in a fixed number of queries."""

from django.utils.text import Truncator
from django.utils.translation import gettext as _

from uphold.processes.models import Process

from .models import QUESTIONS, REVERSED, Reflection, ReleasedReview, Review, Score
from .services import answers_of

START = 160


def score_label(value: int | None) -> str:
    return str(Score(value).label) if value is not None else _("cannot say")


def reflections(process: Process) -> list[dict]:
    """Every reflection with the start of its text and how many reviews it has: X sends a
    handful over years, so the list is not paged."""
    from django.db.models import Count

    rows = Reflection.objects.filter(process=process).annotate(review_count=Count("reviews"))
    return [
        {"reflection": r, "start": Truncator(" ".join(r.text.split())).chars(START)} for r in rows
    ]


def side_by_side(rows: list, labels: list[str] | None = None) -> list[dict]:
    """For each question, one cell per review (or version, or released copy), in the given
    order; each cell carries its column's label, which names it where the table is shown as
    cards (on a phone)."""
    answers = [answers_of(row) for row in rows]
    labels = labels or [""] * len(rows)
    return [
        {
            "question": question,
            "reversed": name in REVERSED,
            "cells": [
                {
                    "label": label,
                    "score": score_label(a[name].score),
                    "quotes": a[name].quotes,
                    "note": a[name].note,
                }
                for a, label in zip(answers, labels, strict=True)
            ],
        }
        for name, question in QUESTIONS
    ]


def reviews_of(reflection: Reflection) -> list[Review]:
    return list(Review.objects.filter(reflection=reflection).select_related("author", "released"))


def released(process: Process) -> list[dict]:
    """The copies released to the survivor's side, each with its answers by question."""
    copies = list(ReleasedReview.objects.filter(process=process))
    return [{"copy": copy, "rows": side_by_side([copy])} for copy in copies]
