"""Docs are code: a setting or a command missing from docs/deploy.md fails here."""

import re
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

ROOT = Path(settings.BASE_DIR).parent
DEPLOY = (ROOT / "docs" / "deploy.md").read_text()


def test_every_setting_is_documented():
    names = set(re.findall(r"UPHOLD_[A-Z0-9_]+", (ROOT / "uphold" / "settings.py").read_text()))
    names |= {"DATABASE_URL"}
    missing = sorted(name for name in names if f"`{name}`" not in DEPLOY)
    assert not missing, f"add to docs/deploy.md: {missing}"


def test_every_uphold_command_is_documented():
    ours = sorted(name for name, app in get_commands().items() if app.startswith("uphold"))
    assert {"serve", "demo", "worker", "createuser", "generate"} <= set(ours)
    missing = [name for name in ours if f"uphold {name}" not in DEPLOY]
    assert not missing, f"add to docs/deploy.md: {missing}"


def test_the_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
