"""What every `uphold` command shares: refusals as one plain sentence, checked numbers, the
password from the terminal or UPHOLD_PASSWORD, a database that is there, and acting as a member.

A refusal is one line on standard error and a non-zero exit status (2 for a bad argument, 1
otherwise); `--traceback` shows where it came from instead. `refusal()` says which exceptions
are refusals and how each reads; `uphold/cli.py` uses it too, for Django's own commands.
"""

import argparse
import contextlib
import getpass
import math
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    SystemCheckError,
    handle_default_options,
)
from django.db import DatabaseError, connection, connections
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

NO_PASSWORD = (
    "No password given: set UPHOLD_PASSWORD, or run the command in a terminal to be asked for it."
)
BAD_ARGUMENT = 2


def refusal(error: BaseException) -> tuple[str, int] | None:
    """The sentence and exit status for an exception that is a refusal, or None for a bug.

    Service refusals read as on the web (the texts of the 404 and 403 pages), in the language
    active now: the member's own once a command acts as one.
    """
    if isinstance(error, SystemCheckError):
        return str(error).strip(), 1  # Django's own report of the checks, already plain
    if isinstance(error, CommandError):
        return _argument_error(str(error)), error.returncode
    if isinstance(error, Http404):
        return f"{_('Not found')}: {_('There is nothing here, or it is not yours to see.')}", 1
    if isinstance(error, PermissionDenied):
        said = str(error) or _("Your role in this process does not allow this.")
        return f"{_('Not allowed')}: {said}", 1
    if isinstance(error, ValidationError):
        return " ".join(error.messages), 1
    if isinstance(error, ImproperlyConfigured):
        return str(error), 1
    if isinstance(error, EOFError):
        return "The command wanted input and got none (no terminal, or the input ended).", 1
    if isinstance(error, DatabaseError):
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"The database refused: {first}. Is it set up (`uphold migrate`)?", 1
    if isinstance(error, OSError) and error.strerror:
        where = f" {error.filename}" if error.filename else ""
        return f"Could not use{where}: {error.strerror}.", 1
    return None


def _bad_argument(message: str) -> None:
    raise CommandError(_argument_error(message), returncode=BAD_ARGUMENT)


def _argument_error(message: str) -> str:
    """argparse says "argument --port: must be ..."; this says "--port must ..."."""
    message = message.removeprefix("Error: ")
    return re.sub(r"^argument (\S+?)(?:/\S+)?: (must|is) ", r"\1 \2 ", message)


class UpholdCommand(BaseCommand):
    """The base of every project command: a refusal is one sentence, never a traceback.

    Set `needs_database = True` for a command that works on the database: on a database that
    is missing or was never migrated it says "run `uphold migrate` first", and creates nothing.
    """

    needs_database = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = _bad_argument  # one line, instead of argparse's usage and message
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        self._called_from_command_line = True
        try:
            parser = self.create_parser(argv[0], argv[1])
            options = parser.parse_args(argv[2:])
            handle_default_options(options)
            cmd_options = vars(options)
            args = cmd_options.pop("args", ())
            self.execute(*args, **cmd_options)
        except Exception as error:
            if "--traceback" in argv:
                raise
            said = refusal(error)
            if said is None:
                raise
            message, status = said
            if isinstance(error, CommandError) and status == BAD_ARGUMENT:
                message = f"uphold {argv[1]}: {message}"
            self.stderr.write(message)
            sys.exit(status)
        finally:
            with contextlib.suppress(ImproperlyConfigured):  # settings never loaded
                connections.close_all()

    def execute(self, *args, **options):
        self.check_arguments(*args, **options)
        if self.needs_database:
            require_database()
        return super().execute(*args, **options)

    def check_arguments(self, *args, **options) -> None:
        """Refuses arguments that are wrong together or in this mode, before the database."""


def require_database() -> None:
    """Refuses, without creating or changing anything, a database missing or not migrated."""
    if connection.vendor == "sqlite":
        _require_sqlite_file(str(settings.DATABASES["default"]["NAME"]))
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        applied = executor.loader.applied_migrations
        missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        raise CommandError(f"The database cannot be reached: {first}.") from error
    if not applied:
        raise CommandError("The database was never set up: run `uphold migrate` first.")
    if missing:
        raise CommandError(
            f"The database lacks {len(missing)} migration(s) of this version of Uphold: "
            "run `uphold migrate` first."
        )


def _require_sqlite_file(name: str) -> None:
    """Looks, read-only, before Django opens the file (which would make it a WAL database)."""
    if name.startswith("file:") or name == ":memory:":
        return
    path = Path(name).resolve()
    if not path.is_file():
        raise CommandError(
            f"There is no database at {name}: run `uphold migrate` first, or set "
            "UPHOLD_DATA_DIR (or DATABASE_URL) to where it is."
        )
    never = CommandError("The database was never set up: run `uphold migrate` first.")
    if path.stat().st_size == 0:
        raise never
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
    except sqlite3.Error:
        return  # Django's own look below says what is wrong
    if found is None:
        raise never


def read_password(prompt: str = "Password: ", *, twice: bool = False) -> str:
    """UPHOLD_PASSWORD if set, else asked at the terminal; refused plainly with neither."""
    given = os.environ.get("UPHOLD_PASSWORD")
    if given:
        return given
    if not sys.stdin or not sys.stdin.isatty():
        raise CommandError(NO_PASSWORD)
    try:
        first = getpass.getpass(prompt)
        if twice and first != getpass.getpass("Password again: "):
            raise CommandError("The two passwords differ.")
    except EOFError as error:
        raise CommandError(NO_PASSWORD) from error
    return first


def whole_number(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number within the bounds, or a plain refusal."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = None
        if (
            number is None
            or (minimum is not None and number < minimum)
            or (maximum is not None and number > maximum)
        ):
            raise argparse.ArgumentTypeError(f"must be {_bounds(minimum, maximum)}, not {text!r}")
        return number

    parse.__name__ = "whole number"
    return parse


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"a whole number from {minimum} to {maximum}"
    if minimum is not None:
        return f"a whole number of {minimum} or more"
    if maximum is not None:
        return f"a whole number of {maximum} or less"
    return "a whole number"


def seconds(*, maximum: float, off: bool = False, least: float = 0.0) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds up to `maximum`; with `off`, 0 too."""

    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and (least <= number <= maximum or (off and number == 0)):
            return number
        lowest = f"0 (off) or from {least:g}" if off else f"from {least:g}"
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds {lowest} to {maximum:g}, not {text!r}"
        )

    parse.__name__ = "seconds"
    return parse


PORT = whole_number(1, 65535)


class MemberCommand(UpholdCommand):
    """Adds --user; the password comes from UPHOLD_PASSWORD or a prompt.

    Once the member is known, the command speaks their language (what they chose on the web).
    """

    needs_database = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the member to act as")

    def actor(self, username: str):
        from uphold.accounts.models import User
        from uphold.accounts.services import acting_as
        from uphold.crypto import keyring
        from uphold.crypto.primitives import CryptoError, UnsafeKdfParams
        from uphold.crypto.services import pin_own_keys, unlock

        password = read_password(f"Password for {username}: ")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None or not user.check_password(password):
            raise CommandError("That username or password is wrong.")
        translation.activate(user.language)
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
