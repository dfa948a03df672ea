"""One-click fixes; importing this package registers them all (see base.py)."""

from audit_app.fixes import (  # noqa: F401
    branches,
    interactions,
    numbers,
    placeholders,
    secrets,
    staff,
    templates,
)
