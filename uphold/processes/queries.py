"""Reads for process pages, each in a fixed number of queries."""

from django.db.models import QuerySet

from uphold.accounts.models import User

from .models import Membership, Process


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("process").order_by("process__code")


def members_of(process: Process) -> QuerySet[Membership]:
    return process.memberships.select_related("user").order_by("role", "user__username")
