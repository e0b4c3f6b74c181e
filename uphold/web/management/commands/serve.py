"""`uphold serve`: the web application on a local address, behind a TLS proxy in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve Uphold over HTTP (put a TLS reverse proxy in front of it in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, host: str, port: int, threads: int, **options) -> None:
        if settings.DEMO and host != "127.0.0.1":
            raise CommandError("Demo mode serves on 127.0.0.1 only.")
        from waitress import serve

        from uphold.wsgi import application

        self.stdout.write(f"Uphold ({settings.UPHOLD_MODE}) on http://{host}:{port}/", ending="\n")
        self.stdout.flush()
        proxy = {}
        if settings.PRODUCTION:
            # The TLS proxy on this machine tells us the scheme and the client's address.
            proxy = {
                "trusted_proxy": "127.0.0.1",
                "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host",
            }
        serve(
            application,
            host=host,
            port=port,
            threads=threads,
            ident="uphold",
            clear_untrusted_proxy_headers=True,
            **proxy,
        )
