"""`uphold createuser NAME`: an account with its authenticator, for the first admin or scripts."""

import getpass
import os

import qrcode
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from uphold.accounts.models import User
from uphold.accounts.services import authenticator_key, create_user, totp_uri


class Command(BaseCommand):
    help = "Create an account. The password comes from UPHOLD_PASSWORD or a prompt."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--site-admin", action="store_true", help="runs the server")

    def handle(self, *args, username: str, site_admin: bool, **options) -> None:
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"The username {username} is taken.")
        password = os.environ.get("UPHOLD_PASSWORD") or self._ask()
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        account = create_user(username, password, site_admin=site_admin)
        user, device = account.user, account.device
        secret = authenticator_key(device.key)
        self.stdout.write(f"Created {user.username}{' (site admin)' if site_admin else ''}.")
        self.stdout.write(f"Authenticator key: {secret}")
        uri = totp_uri(device.key, "account")
        self.stdout.write(f"Or scan: {uri}")
        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        qr.print_ascii(out=self.stdout._out, invert=True)
        self.stdout.write(
            "Recovery words (write them down now; they open your keys if you forget the "
            f"password, and are shown only this once):\n{account.recovery_words}"
        )

    def _ask(self) -> str:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("The two passwords differ.")
        return first
