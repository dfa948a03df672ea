"""One-click fixes; importing this package registers them all (see base.py)."""

from audit_app.fixes import (  # noqa: F401
    agents,
    branches,
    event_types,
    interactions,
    numbers,
    placeholders,
    retell_numbers,
    secrets,
    staff,
    templates,
)
