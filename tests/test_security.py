"""Headers on every response, CSRF on every route, and no page loading from another host."""

import re

import pytest
from django.urls import reverse

from .conftest import database_state
from .test_authorization import MATRIX, url_for


@pytest.mark.parametrize("role", ["anonymous", "contact"])
def test_every_response_carries_the_security_headers(role, accounts, client_for):
    client = client_for(role)
    for name in MATRIX:
        response = client.get(url_for(name, accounts))
        csp = response["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp, name
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cache-Control"] == "no-store"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("role", ["anonymous", "support", "admin"])
def test_every_route_refuses_a_post_without_a_csrf_token(role, accounts, client_for):
    client = client_for(role, enforce_csrf_checks=True)
    for name in MATRIX:
        url = url_for(name, accounts)
        before = database_state()
        response = client.post(url, {"role": "community", "code": "osprey"})
        # The upload routes check who may upload before they read the body (to seal the file as
        # it arrives, or to stop reading a CSV file past its limit); for them the refusal is the login page or 404 instead of 403.
        refused = response.status_code == 403 or (
            name
            in {
                "documents",
                "letter-documents",
                "entry-documents",
                "reflection-add",
                "programmes-import",
                "mail",
            }
            and (response.status_code == 404 or response["Location"].startswith("/login/"))
        )
        assert refused, f"POST {url} as {role}: {response.status_code}"
        assert database_state() == before, f"POST {url} as {role} changed something"


def test_the_csrf_failure_page_explains_in_the_users_language(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True, headers={"accept-language": "de"})
    response = client.post(reverse("login"), {"username": "a"})
    assert "Dieses Formular ist abgelaufen" in response.content.decode()


def test_no_template_loads_from_another_host_or_runs_inline_script():
    from pathlib import Path

    from django.conf import settings

    for template in Path(settings.BASE_DIR).rglob("templates/**/*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)=["']https?://""", text), template
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+=", text), template
        assert "style=" not in text, template


def test_hsts_and_secure_cookies_in_production(tmp_path):
    import os
    import subprocess
    import sys

    env = os.environ | {
        "UPHOLD_MODE": "production",
        "UPHOLD_DATA_DIR": str(tmp_path),
        "UPHOLD_ALLOWED_HOSTS": "uphold.example.org",
    }
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env | {"DJANGO_SETTINGS_MODULE": "uphold.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(out[0]) >= 365 * 24 * 3600
    assert out[1:] == ["True", "True", "True", "False"]


def test_the_language_cookie_is_secure_and_host_only_in_production(tmp_path):
    import os
    import subprocess
    import sys

    env = os.environ | {
        "UPHOLD_MODE": "production",
        "UPHOLD_DATA_DIR": str(tmp_path),
        "UPHOLD_ALLOWED_HOSTS": "uphold.example.org",
        "DJANGO_SETTINGS_MODULE": "uphold.settings",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.LANGUAGE_COOKIE_SECURE, s.LANGUAGE_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_SAMESITE, "
        "s.LANGUAGE_COOKIE_NAME, s.LANGUAGE_COOKIE_DOMAIN, s.LANGUAGE_COOKIE_PATH)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    # __Host-: sent only over HTTPS, only to this host, never set by a subdomain.
    assert out == ["True", "True", "Strict", "__Host-language", "None", "/"]


def test_every_language_cookie_carries_the_cookie_settings(accounts, settings):
    """The login sets the member's language itself; it must not drop Secure."""
    from django.test import Client

    from .test_login import post_login

    settings.LANGUAGE_COOKIE_SECURE = True
    client = Client()
    response = post_login(client, accounts["contact"])
    assert response.status_code == 302
    chosen = client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert chosen.status_code == 302
    for set_by in (response, chosen):
        cookie = set_by.cookies[settings.LANGUAGE_COOKIE_NAME]
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
