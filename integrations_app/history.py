"""The record of every change the console makes to the gateway's tables (django-auditlog).

Secret columns are excluded from the record entirely: neither the value nor any part of it is
ever written to the history. Each entry carries the source of the change (admin, a command,
an import) in `additional_data`.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from auditlog.registry import auditlog

_source: ContextVar[str] = ContextVar("askpro_change_source", default="web")

# Columns that hold secrets, encrypted or (by the gateway's design) in plain text.
SECRET_COLUMNS = {
    "Company": (
        "calcom_api_key",
        "calcom_v2_api_key",
        "retell_api_key",
        "webhook_signing_secret",
        "google_calendar_credentials",
    ),
    "Branch": ("calcom_api_key",),
    "Staff": (
        "google_calendar_token",
        "google_refresh_token",
        "outlook_access_token",
        "outlook_refresh_token",
    ),
    "Integration": (
        "api_key",
        "api_secret",
        "access_token",
        "refresh_token",
        "webhook_secret",
        "credentials",
    ),
}


def current_source() -> str:
    return _source.get()


@contextmanager
def recorded_as(source: str):
    """Mark every change made inside the block with its source, e.g. ``command:seed_demo``."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def secret_columns(model) -> tuple[str, ...]:
    return SECRET_COLUMNS.get(model.__name__, ())


def register_gateway_models() -> None:
    from integrations_app.models import GATEWAY_MODELS

    for model in GATEWAY_MODELS:
        if auditlog.contains(model):
            continue
        auditlog.register(
            model,
            exclude_fields=list(secret_columns(model)),
            serialize_data=True,
            serialize_auditlog_fields_only=True,
        )
