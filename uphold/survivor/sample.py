"""The demo's survivor's side: what the survivor told their support group they want, and one
item they asked to read, still waiting for the contact group's answer."""

from uphold.accounts.models import User

from . import services

AVOID = "What he says about the night itself, and his excuses for it."
WITHHELD = "Where I live now."
ASKED = "The minutes of the first meeting, if they do not quote him."


def fill_wishes(code: str, support: User) -> None:
    services.save_preferences(
        support,
        code,
        services.Wishes("quarterly", "directly", "big", True, avoid=AVOID),
        base_revision=0,
    )
    services.add_withholding(support, code, what=WITHHELD, from_role="respondent")
    services.ask_for_item(support, code, ASKED)
