"""Every choice field of Uphold's models says its label as Django's own `get_FOO_display`
does, in each language, from a table made once per language (uphold/lib/choices.py)."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from uphold.lib.choices import label
from uphold.record.models import Entry, Tag

FIELDS = [
    (model, field)
    for config in apps.get_app_configs()
    if config.name.startswith("uphold.")
    for model in config.get_models()
    for field in model._meta.concrete_fields
    if field.choices and field.model is model
]


def test_there_are_choice_fields_to_check():
    assert len(FIELDS) >= 15


@pytest.mark.parametrize("language", ["en", "de"])
def test_each_label_is_djangos_own_in_each_language(language):
    with translation.override(language):
        for model, field in FIELDS:
            for value in [v for v, _l in field.flatchoices] + ["not-a-choice"]:
                row = model(**{field.attname: value})
                ours = getattr(row, f"get_{field.name}_display")()
                assert ours == models.Model._get_FIELD_display(row, field), (model, field, value)


def test_a_label_follows_the_language_switched_to():
    entry = Entry(kind="meeting_missed", tags=["no_reply"])
    with translation.override("en"):
        english = (entry.get_kind_display(), entry.tag_labels)
    with translation.override("de"):
        german = (entry.get_kind_display(), entry.tag_labels)
        assert german[1] == [str(Tag.NO_REPLY.label)] == [label(Tag, "no_reply")]
    assert english[0] != german[0] and english[1] != german[1]
