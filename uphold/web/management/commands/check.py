"""`uphold check`: Django's system checks, with the deployment checks in production mode."""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.check import Command as DjangoCheck

from uphold.lib.commands import UpholdCommand


class Command(UpholdCommand, DjangoCheck):
    help = "Run the system checks; in production mode the deployment checks (--deploy) too."

    def handle(self, *app_labels, **options) -> None:
        options["deploy"] = options["deploy"] or settings.PRODUCTION
        try:
            super().handle(*app_labels, **options)
        except LookupError as error:  # an app label that is not installed
            raise CommandError(str(error.args[0] if error.args else error)) from error
