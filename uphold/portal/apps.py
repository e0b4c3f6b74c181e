from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "uphold.portal"
    label = "portal"
