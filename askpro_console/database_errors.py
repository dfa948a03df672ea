"""One clear line, not a traceback, when the database server is down or refuses the login."""

import sys
from contextlib import contextmanager

from django.db import DatabaseError
from django.utils.translation import gettext as _


def describe(error: Exception) -> str:
    # mysqlclient errors carry (code, message); show the server's own message.
    args = getattr(error, "args", ())
    if len(args) == 2 and isinstance(args[0], int):
        return f"{args[1]} (#{args[0]})"
    return str(error).splitlines()[0] if str(error) else error.__class__.__name__


@contextmanager
def exit_on_database_error():
    try:
        yield
    except DatabaseError as error:
        print(
            _("askpro-console: database error: %(error)s") % {"error": describe(error)},
            file=sys.stderr,
        )
        raise SystemExit(1) from None
