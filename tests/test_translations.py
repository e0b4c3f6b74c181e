"""Every user-facing string exists in German, and the compiled catalogue matches its source."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
from django.conf import settings
from django.test import Client
from django.urls import reverse

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "de" / "LC_MESSAGES" / "django.po"


def test_no_german_string_is_missing_or_fuzzy():
    po = polib.pofile(str(CATALOGUE))
    assert not po.untranslated_entries()
    assert not po.fuzzy_entries()
    for entry in po.translated_entries():
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for name in ("%(name)s", "%(code)s", "%(role)s"):
            for form in forms:
                assert (name in entry.msgid) == (name in form), entry.msgid


# The reports' templates are Markdown (uphold/reports/templates/reports/*.md); the Makefile's
# `translations` target reads the same kinds of file.
EXTENSIONS = ["-e", "html,txt,py,md"]


def test_the_catalogue_holds_every_string_of_the_code(tmp_path):
    """Extract the strings afresh from a copy of the package and compare with the catalogue."""
    assert shutil.which("xgettext"), "install Debian's gettext (make test does)"
    package = Path(settings.BASE_DIR)
    shutil.copytree(package, tmp_path / "uphold", ignore=shutil.ignore_patterns("__pycache__"))
    env = os.environ | {
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "uphold.settings",
        "UPHOLD_DATA_DIR": str(tmp_path / "data"),
    }
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "de", "--no-obsolete", *EXTENSIONS],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(tmp_path / "uphold/locale/de/LC_MESSAGES/django.po"))
    committed = polib.pofile(str(CATALOGUE))
    missing = {e.msgid for e in fresh if not e.obsolete} - {e.msgid for e in committed}
    assert not missing, f"run `make translations` and translate: {sorted(missing)}"
    assert not fresh.untranslated_entries(), "strings without German"


def test_the_compiled_catalogue_is_current(tmp_path):
    compiled = tmp_path / "django.mo"
    polib.pofile(str(CATALOGUE)).save_as_mofile(str(compiled))
    assert compiled.read_bytes() == CATALOGUE.with_suffix(".mo").read_bytes(), (
        "run `uphold compiletranslations`"
    )


def test_pages_come_in_german(db):
    page = Client(headers={"accept-language": "de"}).get(reverse("login")).content.decode()
    assert 'lang="de"' in page
    assert "Anmelden" in page and "Schnell verlassen" in page


def test_the_language_menu_names_each_language_in_itself(db):
    for language in ("en", "de"):
        page = Client(headers={"accept-language": language}).get(reverse("login")).content.decode()
        assert 'lang="en">English</option>' in page
        assert 'lang="de">Deutsch</option>' in page
        assert "Englisch" not in page and ">German<" not in page
