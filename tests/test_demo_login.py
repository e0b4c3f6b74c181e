"""The login page lists the demo accounts in demo mode on 127.0.0.1 only."""

import pytest
from django.test import Client
from django.urls import reverse

from uphold.web import demo


@pytest.fixture
def demo_file(accounts):
    demo.save_accounts([{**accounts["contact"], "label": "contact group"}])
    yield
    demo.accounts_file().unlink()


def test_demo_mode_on_localhost_lists_accounts_with_a_current_code(demo_file, accounts, settings):
    settings.DEMO = True
    page = Client(REMOTE_ADDR="127.0.0.1").get(reverse("login"), HTTP_HOST="127.0.0.1:8000")
    text = page.content.decode()
    assert accounts["contact"]["password"] in text
    from uphold.accounts.services import totp_code

    assert totp_code(accounts["contact"]["totp_key"]) in text


@pytest.mark.parametrize(
    ("demo_mode", "host"), [(False, "127.0.0.1"), (True, "uphold.example.org")]
)
def test_no_listing_outside_demo_mode_or_for_another_host(
    demo_file, accounts, settings, demo_mode, host
):
    settings.DEMO = demo_mode
    settings.ALLOWED_HOSTS = ["127.0.0.1", "uphold.example.org"]
    page = Client().get(reverse("login"), HTTP_HOST=host)
    assert page.status_code == 200
    assert accounts["contact"]["password"] not in page.content.decode()
