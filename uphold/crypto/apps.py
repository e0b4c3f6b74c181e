from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "uphold.crypto"
    label = "crypto"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the encrypted-field checks)
