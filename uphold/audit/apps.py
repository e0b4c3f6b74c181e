from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "uphold.audit"
    label = "audit"
