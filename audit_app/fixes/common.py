"""Small helpers the fixes share: the time stamp, a work-list row."""

from django.utils import timezone

from audit_app.registry import Affected

APP = "integrations_app"


def now():
    """Laravel's timestamps: whole seconds."""
    return timezone.now().replace(microsecond=0)


def company_row(company, detail: str) -> Affected:
    return Affected(
        table="companies",
        pk=company.pk,
        label=company.name,
        detail=detail,
        admin=(APP, "company"),
    )


def stamp(value) -> str | None:
    """A timestamp as the preview and the record show it (JSON-safe)."""
    return value.isoformat() if value is not None else None
