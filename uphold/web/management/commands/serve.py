"""`uphold serve`: the web application on a local address, behind a TLS proxy in production.

Gunicorn with threads hands the request body to Uphold as it arrives from the socket, so an
uploaded document is sealed chunk by chunk and never spooled to a temporary file in clear
(a server that buffers whole bodies to disk first would defeat that).
"""

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from gunicorn.app.base import BaseApplication

from uphold.lib.commands import PORT, UpholdCommand, whole_number


class _Gunicorn(BaseApplication):
    def __init__(self, application, options: dict) -> None:
        self.application, self.options = application, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        return self.application


class Command(UpholdCommand):
    help = "Serve Uphold over HTTP (put a TLS reverse proxy in front of it in production)."

    needs_database = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=PORT, default=8000, help="1 to 65535")
        parser.add_argument(
            "--workers", type=whole_number(1, 128), default=2, help="processes (1 to 128)"
        )
        parser.add_argument(
            "--threads", type=whole_number(1, 512), default=8, help="per process (1 to 512)"
        )

    def check_arguments(self, *args, host: str, **options) -> None:
        if settings.DEMO and host != "127.0.0.1":
            raise CommandError("Demo mode serves on 127.0.0.1 only.")

    def handle(self, *args, host: str, port: int, workers: int, threads: int, **options) -> None:
        from uphold.wsgi import application

        self.stdout.write(f"Uphold ({settings.UPHOLD_MODE}) on http://{host}:{port}/")
        self.stdout.flush()
        _Gunicorn(
            application,
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 120,
                "accesslog": None,  # URLs can hold one-time tokens: never logged
                "loglevel": "warning",
                # The TLS proxy on this machine tells us the scheme and the client's address.
                "forwarded_allow_ips": "127.0.0.1",
                "proc_name": "uphold",
            },
        ).run()
