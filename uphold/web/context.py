"""What the base layout needs on every page."""

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict:
    return {
        "leave_url": settings.UPHOLD_LEAVE_URL,
        "demo_mode": settings.DEMO,
        "lockout_hours": int(settings.AXES_COOLOFF_TIME.total_seconds() // 3600),
        "verified": bool(
            getattr(request, "user", None)
            and request.user.is_authenticated
            and request.user.is_verified()
        ),
    }
