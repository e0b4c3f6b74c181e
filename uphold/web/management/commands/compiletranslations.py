"""`uphold compiletranslations`: .po to .mo in pure Python (no gettext tools needed)."""

from pathlib import Path

import polib
from django.conf import settings

from uphold.lib.commands import UpholdCommand


class Command(UpholdCommand):
    help = "Compile the translation catalogues (.po) into the files Django reads (.mo)."

    def handle(self, *args, **options) -> None:
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
                self.stdout.write(f"compiled {po_path}")
