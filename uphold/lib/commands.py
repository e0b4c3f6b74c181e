"""A base for commands that read or write process content: they act as a member."""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError, CommandParser

from uphold.accounts.models import User
from uphold.accounts.services import acting_as
from uphold.crypto import keyring
from uphold.crypto.primitives import CryptoError, UnsafeKdfParams
from uphold.crypto.services import pin_own_keys, unlock


class MemberCommand(BaseCommand):
    """Adds --user; the password comes from UPHOLD_PASSWORD or a prompt."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the member to act as")

    def actor(self, username: str) -> User:
        password = os.environ.get("UPHOLD_PASSWORD") or getpass.getpass(
            f"Password for {username}: "
        )
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None or not user.check_password(password):
            raise CommandError("That username or password is wrong.")
        try:
            private_key = unlock(user, password)
        except UnsafeKdfParams as error:
            raise CommandError(
                "The keys of this account were not opened: the settings stored with them are "
                "outside the safe range. Nothing was changed. Someone may have altered the "
                "database."
            ) from error
        except CryptoError as error:
            raise CommandError(
                "The keys of this account do not open with its password: what is stored for "
                "them was changed. Nothing was changed. Someone may have altered the database."
            ) from error
        pin_own_keys(user.pk, private_key)  # as at a login
        keyring.activate(keyring.Keyring(user.pk, private_key))
        return acting_as(user)
