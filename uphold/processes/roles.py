"""The roles a member can have in a process (DESIGN.md, "Parties and roles")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SURVIVOR = "survivor", _("survivor")
    SUPPORT = "support", _("support group")
    CONTACT = "contact", _("contact group")
    COMMUNITY = "community", _("community group")
    RESPONDENT = "respondent", _("person who did harm")
