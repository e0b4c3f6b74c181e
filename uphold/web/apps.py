from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "uphold.web"
    label = "web"

    def ready(self) -> None:
        from uphold.lib.choices import keep_labels

        keep_labels()
