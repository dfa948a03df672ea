"""The registered checks, one module per area; importing this package registers them all."""

from audit_app.checks import (  # noqa: F401
    agents,
    bookings,
    calls,
    connections,
    credentials,
    customers,
    event_types,
    inventory,
    keys,
    notifications,
    retell_numbers,
    secrets,
)
