from django.apps import AppConfig


class MailinConfig(AppConfig):
    name = "uphold.mailin"
    label = "mailin"
