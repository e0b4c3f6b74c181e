"""The `uphold` command: every Django management command, plus Uphold's own (serve, demo, ...)."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uphold.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "uphold"
    if args[1:2] == ["demo"]:
        os.environ.setdefault("UPHOLD_MODE", "demo")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
