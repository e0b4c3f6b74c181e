"""`uphold check`: Django's system checks, with the deployment checks in production mode."""

from django.conf import settings
from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    help = "Run the system checks; in production mode the deployment checks (--deploy) too."

    def handle(self, *app_labels, **options) -> None:
        options["deploy"] = options["deploy"] or settings.PRODUCTION
        super().handle(*app_labels, **options)
