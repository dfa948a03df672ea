"""Every write the console makes to the gateway's tables (DESIGN.md decision 6).

Plain functions taking keyword arguments; each does one change in one transaction and records
every row it wrote in the one change store (``changelog``), under the current operation.
Admin classes, inlines, imports, fixes, undo, key rotation, connection tests and commands call
these functions and hold no writes of their own.
"""

from integrations_app.services.limits import InvalidValueError
from integrations_app.services.phone_numbers import save_phone_number
from integrations_app.services.records import (
    SecretColumnError,
    create_rows,
    delete_record,
    delete_records,
    save_record,
    update_rows,
)

__all__ = [
    "InvalidValueError",
    "SecretColumnError",
    "create_rows",
    "delete_record",
    "delete_records",
    "save_phone_number",
    "save_record",
    "update_rows",
]
