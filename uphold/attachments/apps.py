from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "uphold.attachments"
    label = "attachments"
