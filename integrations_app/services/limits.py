"""What a write must not put into a column, checked before it is written.

SQLite (the demo, the tests) stores a 300-character value in a varchar(255), an integer beyond
int(11) or a value an enum column does not have; MariaDB in strict mode refuses them with an
error page. So every write service checks the values it is about to write against the column's
limits: ``max_length`` (and other length, range and digit validators of the field), the integer
range of the MariaDB column, an enum's values, the 64 KiB of a ``text`` column. And a plain JSON
column (``PLAIN_JSON_COLUMNS`` on the model) never receives a secret (crypto/key_like.py).

Only values that change are checked: a row the gateway wrote keeps what it has.
"""

from collections.abc import Iterable

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.db.models import Model
from django.utils.translation import gettext as _

from integrations_app.crypto.key_like import as_text, secret_paths
from integrations_app.models.fields import EnumField
from integrations_app.services.snapshots import same_value

# Validators of a model field that state a limit, not a format (an e-mail address the gateway
# stored stays as it is).
LIMITS = (
    validators.MaxLengthValidator,
    validators.MinLengthValidator,
    validators.MaxValueValidator,
    validators.MinValueValidator,
    validators.DecimalValidator,
)
SHOWN_CHARS = 40  # of a refused enum value in a message


class InvalidValueError(ValueError):
    """A value a column cannot hold; ``message`` names the column. Nothing was written."""

    def __init__(self, message: str, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


def problems(new: Model, columns: Iterable[str], old: Model | None = None) -> list[tuple]:
    """(field name, message) for every column of ``columns`` (attribute names) whose value in
    ``new`` differs from ``old`` (every value when there is no ``old``) and breaks a limit."""
    model = type(new)
    by_column = {f.attname: f for f in model._meta.concrete_fields}
    plain_json = getattr(model, "PLAIN_JSON_COLUMNS", ())
    found = []
    for column in columns:
        field = by_column.get(column)
        if field is None or field.primary_key:
            continue
        value = getattr(new, column)
        before = getattr(old, column) if old is not None else None
        if value is None or (old is not None and same_value(model, column, value, before)):
            continue
        problem = _limit_problem(model, field, value)
        if problem is None and column in plain_json:
            problem = _secret_problem(column, value, before if old is not None else None)
        if problem:
            message = _("%(table)s.%(column)s: %(problem)s") % {
                "table": model._meta.db_table,
                "column": column,
                "problem": problem,
            }
            found.append((field.name, message))
    return found


def check(new: Model, columns: Iterable[str], old: Model | None = None) -> None:
    """InvalidValueError naming the first column whose new value breaks a limit."""
    found = problems(new, columns, old)
    if found:
        name, message = found[0]
        raise InvalidValueError(message, name)


def _limit_problem(model, field, value) -> str | None:
    try:
        value = field.to_python(value)
        for validator in field.validators:
            if isinstance(validator, LIMITS):
                validator(value)
        _integer_range(model, field)(value)
    except ValidationError as error:
        return " ".join(error.messages)
    if isinstance(field, EnumField) and field.values and value not in field.values:
        return _("%(value)s is not one of the column's values (%(values)s).") % {
            "value": str(value)[:SHOWN_CHARS],
            "values": ", ".join(field.values),
        }
    max_bytes = getattr(field, "max_bytes", None)
    if max_bytes and isinstance(value, str) and len(value.encode()) > max_bytes:
        return _("the text is longer than the column holds (%(max)d bytes).") % {"max": max_bytes}
    return None


def _integer_range(model, field):
    """A validator of the integer column's range as MariaDB has it (SQLite has none)."""
    if not isinstance(field, models.IntegerField) or field.is_relation:
        return lambda value: None
    ops = connections[router.db_for_write(model)].ops
    low, high = ops.integer_field_ranges.get(field.get_internal_type(), (None, None))

    def in_range(value):
        if low is not None:
            validators.MinValueValidator(low)(value)
        if high is not None:
            validators.MaxValueValidator(high)(value)

    return in_range


def _secret_problem(column: str, value, before) -> str | None:
    """A secret this write adds to a plain JSON column (one already there is the audit's)."""
    kept = {(p, as_text(v)) for p, v in secret_paths(before, column)} if before is not None else ()
    added = [p for p, v in secret_paths(value, column) if (p, as_text(v)) not in kept]
    return plain_secret_message(added) if added else None


def plain_secret_message(paths: Iterable[str]) -> str:
    return _(
        "%(paths)s is named like a secret or looks like a key: secrets never go into the plain "
        "configuration. Enter the key in the integration's key field instead."
    ) % {"paths": ", ".join(paths)}
