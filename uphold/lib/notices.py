"""Email notices. They are sent by the worker, which holds no keys, so a notice can only say
what is in clear: a process's code name, a number, a date. Never a name or a narrative."""

from collections.abc import Callable, Iterable

from django.core.mail import EmailMessage, get_connection
from django.utils import translation

from uphold.accounts.models import User


def send_notice(users: Iterable[User], subject: Callable[[], str], body: Callable[[], str]) -> int:
    """One email per user with an address, in that user's language; returns how many went."""
    messages = []
    for user in users:
        if not user.email or not user.is_active:
            continue
        with translation.override(user.language):
            messages.append(EmailMessage(subject(), body(), to=[user.email]))
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages)
