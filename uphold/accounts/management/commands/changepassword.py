"""Django's `changepassword` would change a password without resealing the member's keys,
cutting them off from every process for good. Uphold replaces it with a refusal."""

from django.core.management.base import CommandError

from uphold.lib.commands import UpholdCommand


class Command(UpholdCommand):
    help = "Not available: change a password on the web page, or issue a reset link as admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", nargs="?")

    def handle(self, *args, **options) -> None:
        raise CommandError(
            "Passwords also lock each member's keys. Change yours on the Password page, or, as "
            "site admin, make a reset link on the Accounts page."
        )
