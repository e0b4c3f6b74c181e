"""`uphold serve`: the web application on a local address, behind a TLS proxy in production.

Gunicorn with threads hands the request body to Uphold as it arrives from the socket, so an
uploaded document is sealed chunk by chunk and never spooled to a temporary file in clear
(a server that buffers whole bodies to disk first would defeat that).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, application, options: dict) -> None:
        self.application, self.options = application, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        return self.application


class Command(BaseCommand):
    help = "Serve Uphold over HTTP (put a TLS reverse proxy in front of it in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, host: str, port: int, workers: int, threads: int, **options) -> None:
        if settings.DEMO and host != "127.0.0.1":
            raise CommandError("Demo mode serves on 127.0.0.1 only.")
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
