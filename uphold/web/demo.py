"""The demo accounts, listed on the login page in demo mode on 127.0.0.1 only."""

import json
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest

from uphold.accounts.services import totp_code

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def accounts_file() -> Path:
    return settings.DATA_DIR / "demo-accounts.json"


def save_accounts(accounts: list[dict]) -> None:
    path = accounts_file()
    path.write_text(json.dumps(accounts, indent=2))
    path.chmod(0o600)


def load_accounts() -> list[dict]:
    path = accounts_file()
    return json.loads(path.read_text()) if path.exists() else []


def accounts_for(request: HttpRequest) -> list[dict]:
    """Never in production or test settings, never for a request to another host name."""
    if not settings.DEMO or request.get_host().split(":")[0] not in LOCAL_HOSTS:
        return []
    if request.META.get("REMOTE_ADDR") not in {"127.0.0.1", "::1"}:
        return []
    return [{**account, "code": totp_code(account["totp_key"])} for account in load_accounts()]
