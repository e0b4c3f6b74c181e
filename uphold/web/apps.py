from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "uphold.web"
    label = "web"
