"""The gateway's tables, mirrored with ``managed = False``: the gateway owns its schema.

The console's own tables (``PhoneImport``,
``ImportLock``, ``BackgroundJob``, ...) are ordinary migrated models
and not in ``GATEWAY_MODELS``.
"""

from integrations_app.models.activity import Appointment, Call, Customer, CustomerInteraction
from integrations_app.models.imports import (
    ImportLock,
    PhoneImport,
    PhoneImportUpload,
)
from integrations_app.models.integrations import Integration, NotificationTemplate, RetellAgent
from integrations_app.models.jobs import BackgroundJob, ConnectionTestOutcome
from integrations_app.models.tenancy import Branch, Company, PhoneNumber, Service, Staff

GATEWAY_MODELS = (
    Company,
    Branch,
    Staff,
    Service,
    PhoneNumber,
    Integration,
    Customer,
    Call,
    Appointment,
    NotificationTemplate,
    CustomerInteraction,
    RetellAgent,
)

__all__ = [m.__name__ for m in GATEWAY_MODELS] + [
    "GATEWAY_MODELS",
    "BackgroundJob",
    "ConnectionTestOutcome",
    "ImportLock",
    "PhoneImport",
    "PhoneImportUpload",
]
