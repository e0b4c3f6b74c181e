from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "uphold.accounts"
    label = "accounts"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the security log)
