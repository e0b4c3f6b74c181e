"""`uphold createuser NAME`: an account with its authenticator, for the first admin or scripts.

The name and password follow the same rules as on the web (accounts.services.check_new_account).
"""

import qrcode
from django.core.management.base import CommandParser

from uphold.accounts.services import (
    authenticator_key,
    check_new_account,
    check_new_username,
    create_user,
    totp_uri,
)
from uphold.lib.commands import UpholdCommand, read_password


class Command(UpholdCommand):
    help = "Create an account. The password comes from UPHOLD_PASSWORD or a prompt."
    needs_database = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--site-admin", action="store_true", help="runs the server")

    def handle(self, *args, username: str, site_admin: bool, **options) -> None:
        check_new_username(username)  # before asking for a password
        password = read_password(twice=True)
        check_new_account(username, password)  # a refusal is one line (lib/commands.py)
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
