"""`uphold demo`: migrate, create the demo accounts and process (once), print them, serve,
with the worker beside the server so reminders and notices land in the demo's mail folder."""

from dataclasses import replace
from datetime import date

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from uphold.accounts.models import User
from uphold.accounts.services import acting_as, authenticator_key, change_settings, totp_code
from uphold.crypto import keyring
from uphold.crypto.keyring import Keyring
from uphold.crypto.services import unlock
from uphold.demands.sample import fill_as_contact, fill_as_support
from uphold.lib.commands import PORT, UpholdCommand
from uphold.mailin.sample import fill_addresses
from uphold.processes.models import Process, Role
from uphold.processes.sample import (
    RealDataPresent,
    build_process,
    make_account,
    refuse_beside_real_data,
    story_day,
)
from uphold.processes.services import Setup
from uphold.programmes.sample import fill_referral
from uphold.record.sample import fill_record
from uphold.reflections.sample import fill_reflections
from uphold.reports.sample import release_report_back, release_update
from uphold.survivor.sample import fill_wishes
from uphold.web import demo

DEMO_CODE = "kestrel"
# The report's groups: the support group in Berlin, the contact group in Birmingham and Glasgow.
# The process began when the letter was handed over (STARTED, moved like the rest of the story).
STARTED = date(2015, 6, 1)
SETUP = Setup(
    title="The process around X (demo)",
    survivor_term="survivor",
    respondent_term="X",
    groups=[
        ("support", "Berlin", "Europe/Berlin"),
        ("contact", "Birmingham and Glasgow", "Europe/London"),
        ("community", "Birmingham", "Europe/London"),
    ],
)
PEOPLE = [
    ("support", Role.SUPPORT),
    ("survivor", Role.SURVIVOR),
    ("contact", Role.CONTACT),
    ("community", Role.COMMUNITY),
    ("respondent", Role.RESPONDENT),
]


class Command(UpholdCommand):
    help = (
        "Set up the demo (accounts for every role, the process kestrel) and serve it, "
        "with the worker beside it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=PORT, default=8000)
        parser.add_argument(
            "--no-serve", action="store_true", help="set up, print, and stop (no server, no worker)"
        )

    def handle(self, *args, port: int, no_serve: bool, **options) -> None:
        if not settings.DEMO:
            raise CommandError("Run the demo with UPHOLD_MODE=demo (`make demo` does).")
        call_command("migrate", verbosity=0, interactive=False)
        try:
            refuse_beside_real_data()
        except RealDataPresent as error:
            raise CommandError(str(error)) from error
        if not Process.objects.filter(code=DEMO_CODE).exists():
            self._create()
        self._print(port)
        if not no_serve:
            self.stdout.write(
                "The worker runs beside the server: it looks for due reminders every minute.\n"
            )
            with demo.worker_beside():
                call_command("serve", host="127.0.0.1", port=port)

    @transaction.atomic
    def _create(self) -> None:
        accounts = [{**make_account("admin", site_admin=True), "role": "admin"}]
        setup = replace(SETUP, started_on=story_day(STARTED))
        accounts += build_process(DEMO_CODE, PEOPLE, setup=setup)
        by_role = {a["role"]: a for a in accounts}
        for account in accounts:  # so reminders and notices have someone to go to
            user = User.objects.get(username=account["username"])
            change_settings(user, email=demo.address_of(user.username), time_zone=user.time_zone)
        fills = [("support", fill_as_support), ("contact", fill_as_contact)]
        fills.append(("contact", fill_record))
        fills.append(("contact", fill_reflections))
        fills.append(("contact", fill_referral))
        fills.append(("contact", release_report_back))
        fills.append(("support", release_update))
        fills.append(("support", fill_wishes))
        fills.append(("contact", fill_addresses))
        for role, fill in fills:
            user = acting_as(User.objects.get(username=by_role[role]["username"]))
            with keyring.using(Keyring(user.pk, unlock(user, by_role[role]["password"]))):
                fill(DEMO_CODE, user)
        for account in accounts:
            account["label"] = (
                "site admin" if account["role"] == "admin" else str(Role(account["role"]).label)
            )
        demo.save_accounts(accounts)

    def _print(self, port: int) -> None:
        self.stdout.write(f"\nDemo process: {DEMO_CODE}. Demo accounts (one per role):\n")
        self.stdout.write(
            f"  {'role':<22} {'username':<12} {'password':<22} key for an authenticator app"
        )
        for a in demo.load_accounts():
            key = authenticator_key(a["totp_key"])
            self.stdout.write(
                f"  {a['label']:<22} {a['username']:<12} {a['password']:<22} {key}"
                f"  (code now {totp_code(a['totp_key'])})"
            )
        self.stdout.write(
            f"\nThe login page at http://127.0.0.1:{port}/login/ shows each account's current code."
        )
        folder = demo.mail_folder()
        if folder is None:
            self.stdout.write(f"Email goes to the mail server {settings.EMAIL_HOST}.\n")
        else:
            self.stdout.write(
                f"Email (reminders, notices) is not sent: each message is a file in {folder}/\n"
            )
