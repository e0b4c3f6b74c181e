from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "uphold.reports"
    label = "reports"
