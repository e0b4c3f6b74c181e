"""The demo's mail catcher: an email backend that writes each message as an .eml file into a
folder (`settings.EMAIL_FILE_PATH`) instead of sending it, so a newcomer can read what would go
out. Django's file backend puts a whole connection's messages into one log file; one file per
message opens in any mail program."""

import time
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.crypto import get_random_string


class EmailBackend(BaseEmailBackend):
    def __init__(self, file_path: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        written = 0
        for message in email_messages:
            if not message.recipients():
                continue
            # Names sort in the order the messages were written.
            name = f"{time.time_ns()}-{get_random_string(6)}.eml"
            path = self.folder / name
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            path.chmod(0o600)
            written += 1
        return written
