"""The console's three roles (groups) and the custom permissions the pages check.

- **Support**: the day-to-day work on the gateway's data: view, add, change and delete companies,
  branches, staff, services, phone numbers, integrations and Retell agents; view the tables the
  gateway writes (customers, calls, appointments, interactions) and the notification templates; set
  credentials, test connections, import and export phone numbers; open the readiness dashboard
  and the fix previews (but not apply a fix).
- **Manager**: all of Support, and apply fixes, record audit snapshots, undo an operation, read
  the global history (operations and changes), the record of applied fixes and of phone-number
  imports.
- **Read-only**: every page that shows data, nothing that writes, imports, exports or tests.

The custom permissions are not declared on the models (``Meta.permissions``): the gateway's
models are not the console's to migrate, so they are created here, on the content type of the
model they belong to, after every ``migrate`` (``post_migrate``) and by ``setup_roles``.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, router
from django.utils.translation import gettext_lazy as _

SUPPORT = "Support"
MANAGER = "Manager"
READ_ONLY = "Read-only"


@dataclass(frozen=True)
class CustomPermission:
    model: str  # "app_label.ModelName"
    codename: str
    name: str

    @property
    def app_label(self) -> str:
        return self.model.split(".", 1)[0]

    @property
    def perm(self) -> str:
        return f"{self.app_label}.{self.codename}"


# The names are stored in the database (auth_permission.name) in English, as Django's own.
_IMPORT = "integrations_app.PhoneImport"
_INTEGRATION = "integrations_app.Integration"
CUSTOM_PERMISSIONS = (
    CustomPermission("audit_app.FixRecord", "view_dashboard", "Can view the readiness dashboard"),
    CustomPermission(_IMPORT, "import_phonenumbers", "Can import phone numbers"),
    CustomPermission(_IMPORT, "export_phonenumbers", "Can export phone numbers"),
    CustomPermission(_INTEGRATION, "test_connection", "Can test connections"),
    CustomPermission(_INTEGRATION, "set_credentials", "Can set credentials"),
    CustomPermission(
        _INTEGRATION, "bind_retell_number", "Can bind phone numbers to agents in Retell"
    ),
)

VIEW_DASHBOARD = "audit_app.view_dashboard"
IMPORT_PHONE_NUMBERS = "integrations_app.import_phonenumbers"
EXPORT_PHONE_NUMBERS = "integrations_app.export_phonenumbers"
TEST_CONNECTION = "integrations_app.test_connection"
SET_CREDENTIALS = "integrations_app.set_credentials"
BIND_RETELL_NUMBER = "integrations_app.bind_retell_number"
APPLY_FIX = "audit_app.apply_fix"
RECORD_SNAPSHOT = "audit_app.record_snapshot"
# Starting a reconciliation reads the providers and stores what it found: no gateway row.
RUN_RECONCILIATION = "audit_app.add_providerreconciliation"
UNDO_OPERATION = "changelog.undo_operation"

CRUD = ("view", "add", "change", "delete")
# The gateway tables Support edits, and those it (like everybody) only reads.
EDITED = ("company", "branch", "staff", "service", "phonenumber", "integration", "retellagent")
READ = ("customer", "call", "appointment", "customerinteraction", "notificationtemplate")

SUPPORT_PERMISSIONS = (
    *(f"integrations_app.{action}_{model}" for model in EDITED for action in CRUD),
    *(f"integrations_app.view_{model}" for model in READ),
    SET_CREDENTIALS,
    TEST_CONNECTION,
    IMPORT_PHONE_NUMBERS,
    EXPORT_PHONE_NUMBERS,
    VIEW_DASHBOARD,
    RUN_RECONCILIATION,
)
MANAGER_PERMISSIONS = (
    *SUPPORT_PERMISSIONS,
    APPLY_FIX,
    BIND_RETELL_NUMBER,
    RECORD_SNAPSHOT,
    UNDO_OPERATION,
    "changelog.view_operation",
    "changelog.view_change",
    "audit_app.view_fixrecord",
    "integrations_app.view_phoneimport",
)
READ_ONLY_PERMISSIONS = (
    *(f"integrations_app.view_{model}" for model in (*EDITED, *READ)),
    VIEW_DASHBOARD,
    "changelog.view_operation",
    "changelog.view_change",
    "audit_app.view_fixrecord",
    "integrations_app.view_phoneimport",
)

ROLES = {
    SUPPORT: SUPPORT_PERMISSIONS,
    MANAGER: MANAGER_PERMISSIONS,
    READ_ONLY: READ_ONLY_PERMISSIONS,
}
ROLE_DESCRIPTIONS = {
    SUPPORT: _("edits the gateway's data, imports and exports numbers, tests connections"),
    MANAGER: _("Support, and applies fixes, undoes operations, reads the global history"),
    READ_ONLY: _("views every page, changes nothing"),
}


def ensure_custom_permissions(using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the custom permissions that do not exist yet (idempotent)."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    if not router.allow_migrate_model(using, Permission):
        return
    for custom in CUSTOM_PERMISSIONS:
        model = apps.get_model(custom.model)
        content_type = ContentType.objects.db_manager(using).get_for_model(
            model, for_concrete_model=False
        )
        Permission.objects.using(using).get_or_create(
            content_type=content_type, codename=custom.codename, defaults={"name": custom.name}
        )


def create_custom_permissions(sender=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The ``post_migrate`` receiver (connected by the app's ``ready``)."""
    ensure_custom_permissions(using=using)


def permission_objects(perms, using: str = DEFAULT_DB_ALIAS):
    """The Permission rows of "app_label.codename" strings; a missing one is an error."""
    from django.contrib.auth.models import Permission

    wanted = set(perms)
    found = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using).select_related("content_type")
        if f"{p.content_type.app_label}.{p.codename}" in wanted
    }
    missing = sorted(wanted - set(found))
    if missing:
        raise LookupError(f"unknown permissions: {', '.join(missing)}")
    return [found[p] for p in sorted(wanted)]


def setup_roles(using: str = DEFAULT_DB_ALIAS) -> dict[str, tuple[bool, int]]:
    """Create or update the three groups with exactly their permissions (idempotent).

    Returns {group name: (created, number of permissions)}.
    """
    from django.contrib.auth.models import Group

    ensure_custom_permissions(using=using)
    done = {}
    for name, perms in ROLES.items():
        group, created = Group.objects.using(using).get_or_create(name=name)
        objects = permission_objects(perms, using=using)
        group.permissions.set(objects)
        done[name] = (created, len(objects))
    return done
