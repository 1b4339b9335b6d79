#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

DEVELOPMENT_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "check"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    # Commands that only inspect or generate code need no production secret: without
    # SECRET_KEY they run with the development default (the settings refuse otherwise).
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in DEVELOPMENT_COMMANDS and "--deploy" not in sys.argv and not os.environ.get("SECRET_KEY"):
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
