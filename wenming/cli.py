"""The `wenming` console script: Django's management commands plus our own."""

import os
import sys

# Commands spelt with a hyphen on the command line; Django's command modules cannot be.
ALIASES = {"verify-ledger": "verify_ledger"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    if args:
        args[0] = ALIASES.get(args[0], args[0])
    execute_from_command_line(["wenming", *args])


if __name__ == "__main__":
    main()
