"""The demo's releases: the contact group's report-back to the community group, and the
support group's update for the survivor, each as it reads from the demo's record today."""

from django.utils import timezone

from uphold.accounts.models import User

from .services import release


def release_report_back(code: str, contact: User) -> None:
    release(contact, code, "report-back", timezone.localdate())


def release_update(code: str, support: User) -> None:
    release(support, code, "survivor-update", timezone.localdate())
