"""The `uphold` command: every Django management command, plus Uphold's own (serve, demo, ...).

Whatever the input, the person at the terminal reads one plain line, never a traceback: a
setting that cannot be used, a refusal (see uphold/lib/commands.py) or, for a bug, what failed
and how to see more. `--traceback` shows the traceback instead.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uphold.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "uphold"
    if args[1:2] == ["demo"]:
        os.environ.setdefault("UPHOLD_MODE", "demo")
    debugging = "--traceback" in args
    try:
        if not any(a.startswith("--settings") for a in args):
            _load_settings()
        execute_from_command_line(args)
    except ImproperlyConfigured as error:
        if debugging:
            raise
        _stop(str(error), 1)
    except KeyboardInterrupt:
        _stop("Stopped.", 130)
    except Exception as error:
        if debugging:
            raise
        from uphold.lib.commands import refusal

        said = refusal(error)
        if said is not None:
            _stop(*said)
        name = args[1] if len(args) > 1 else "help"
        _stop(
            f"uphold {name} stopped on an unexpected error ({type(error).__name__}: {error}). "
            "Run it again with --traceback to see where, and tell the developers.",
            1,
        )


def _load_settings() -> None:
    """Reads the settings now, so that one that cannot be used stops here with its sentence."""
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018  (reading it loads uphold/settings.py)


def _stop(message: str, status: int) -> None:
    sys.stderr.write(" ".join(message.split()) + "\n")
    sys.exit(status)


if __name__ == "__main__":
    main()
