"""Column types of the gateway's MariaDB schema that Django's defaults do not produce.

Each field keeps Django's behaviour and only changes the DDL type on MySQL/MariaDB, so that
`gateway_schema create` builds what the gateway's migrations build and `gateway_schema check`
can compare a live column with the exact type the console expects.
"""

import uuid

from django.db import models
from django.utils import timezone

from integrations_app import labels


def new_uuid() -> str:
    """A new key as Laravel writes it: lowercase UUID v4 with dashes."""
    return str(uuid.uuid4())


class _MySQLType:
    mysql_type = ""

    def db_type(self, connection):
        if connection.vendor == "mysql":
            return self.mysql_type
        return super().db_type(connection)


class UnsignedBigAutoField(models.BigAutoField):
    """`bigint unsigned AUTO_INCREMENT`, the key of every Laravel table but three."""

    def db_type(self, connection):
        if connection.vendor == "mysql":
            return "bigint UNSIGNED AUTO_INCREMENT"
        return super().db_type(connection)

    def rel_db_type(self, connection):
        if connection.vendor == "mysql":
            return "bigint UNSIGNED"
        return super().rel_db_type(connection)


class Char36Field(_MySQLType, models.CharField):
    """`char(36)`: a UUID in its text form, the key type of branches, staff, phone_numbers."""

    mysql_type = "char(36)"

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = 36
        super().__init__(*args, **kwargs)


class TextField(_MySQLType, models.TextField):
    """MySQL `text` (64 KiB); Django's TextField would create `longtext`."""

    mysql_type = "text"
    max_bytes = 65_535  # what `text` holds; checked by services/limits.py (SQLite has no limit)


class TimestampField(_MySQLType, models.DateTimeField):
    """Laravel's `timestamp NULL`: whole seconds, the gateway never stores fractions."""

    mysql_type = "timestamp"

    def pre_save(self, model_instance, add):
        # Like Laravel: an insert keeps a timestamp that was set explicitly, else stamps now.
        if add and getattr(model_instance, self.attname) is not None:
            return models.Field.pre_save(self, model_instance, add)
        if self.auto_now or (self.auto_now_add and add):
            value = timezone.now().replace(microsecond=0)
            setattr(model_instance, self.attname, value)
            return value
        return super().pre_save(model_instance, add)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is not None and hasattr(value, "microsecond"):
            value = value.replace(microsecond=0)
        return super().get_db_prep_value(value, connection, prepared)


class EnumField(models.CharField):
    """A MySQL `enum(...)` column; the choices are its allowed values, in the database's order,
    labelled as integrations_app/labels.py declares them for the column (else the raw value)."""

    def __init__(self, *args, values: tuple[str, ...] = (), **kwargs):
        self.values = tuple(values)
        self.labelled = self.values and "choices" not in kwargs
        if self.labelled:
            kwargs["choices"] = [(v, v) for v in self.values]
        kwargs.setdefault("max_length", max((len(v) for v in self.values), default=20))
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if self.labelled and not cls._meta.abstract:
            self.choices = labels.choices(cls._meta.db_table, self.column, self.values)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["values"] = self.values
        return name, path, args, kwargs

    def db_type(self, connection):
        if connection.vendor == "mysql":
            return "enum({})".format(",".join(f"'{v}'" for v in self.values))
        return super().db_type(connection)
