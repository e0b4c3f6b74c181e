"""The demo's mail addresses: X's, the contact member's and the group's, so a newcomer who
opens the Mail page sees how they are listed and can upload mail at once. Nothing is imported:
the demo's log already tells the story."""

from uphold.accounts.models import User
from uphold.web import demo

from . import services

X_ADDRESS = "x@demo.invalid"
GROUP_ADDRESS = "contact-group@demo.invalid"


def fill_addresses(code: str, contact: User) -> None:
    services.add_address(contact, code, "x", X_ADDRESS)
    services.add_address(contact, code, "group", GROUP_ADDRESS)
    services.add_address(
        contact, code, "member", demo.address_of(contact.username), member_id=contact.pk
    )
