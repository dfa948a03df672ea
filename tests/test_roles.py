"""The three roles against every page and action: role × page × action, allow or deny.

A cell allows when the page opens (or the POST is accepted: anything but 403), and denies with
403 and nothing written. A staff account with no group is denied everything.
"""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from audit_app.models import FixRecord
from changelog.models import Change, Operation, Source
from integrations_app import roles
from integrations_app.models import (
    Appointment,
    Branch,
    Call,
    Company,
    Customer,
    CustomerInteraction,
    Integration,
    NotificationTemplate,
    PhoneImport,
    PhoneImportUpload,
    PhoneNumber,
    Service,
    Staff,
)
from tests import admin_rows
from tests.admin_rows import add_url, admin_url, changelist_url

pytestmark = pytest.mark.django_db

SUPPORT, MANAGER, READ_ONLY, NO_GROUP = "support", "manager", "readonly", "nogroup"
ALL_ROLES = (SUPPORT, MANAGER, READ_ONLY, NO_GROUP)
GROUP_OF = {SUPPORT: roles.SUPPORT, MANAGER: roles.MANAGER, READ_ONLY: roles.READ_ONLY}

EDITED = (Company, Branch, Staff, Service, PhoneNumber, Integration)
READ = (Customer, Call, Appointment, CustomerInteraction, NotificationTemplate)
FIX_ID = "create-main-branch"

# Who may do what: action -> the roles allowed (the staff account with no group: never).
EDITORS = {SUPPORT, MANAGER}
VIEWERS = {SUPPORT, MANAGER, READ_ONLY}
MATRIX = {
    **{(m.__name__, "view"): VIEWERS for m in (*EDITED, *READ)},
    **{(m.__name__, action): EDITORS for m in EDITED for action in ("add", "change", "delete")},
    **{(m.__name__, action): set() for m in READ for action in ("add", "change", "delete")},
    ("PhoneNumber", "import"): EDITORS,
    ("PhoneNumber", "export"): EDITORS,
    ("Integration", "test connection"): EDITORS,
    ("Integration", "set credentials"): EDITORS,
    ("dashboard", "view"): VIEWERS,
    ("fix", "view"): VIEWERS,
    ("fix", "apply fix"): {MANAGER},
    ("FixRecord", "view"): {MANAGER, READ_ONLY},
    ("PhoneImport", "view"): {MANAGER, READ_ONLY},
    ("Operation", "view"): {MANAGER, READ_ONLY},
    ("Change", "view"): {MANAGER, READ_ONLY},
    ("Operation", "undo"): {MANAGER},
}
CELLS = sorted(MATRIX)


@pytest.fixture
def world(gateway_key):
    call_command("setup_roles", stdout=io.StringIO())
    rows = admin_rows.one_of_each()
    operation = Operation.objects.create(cid="role-test", source=Source.IMPORT, name="import")
    rows[PhoneImport] = PhoneImport.objects.create(
        file_name="numbers.csv", checksum="0" * 64, outcome="imported"
    )
    rows[FixRecord] = FixRecord.objects.create(
        check_id="AUD-BRN-001", fix_id=FIX_ID, summary="one branch"
    )
    rows[Operation] = operation
    rows[Change] = Change.objects.create(
        operation=operation, table="companies", object_pk="1", action="update", after={}
    )
    return rows


def login(client, role: str) -> User:
    user = User.objects.create_user(role, password="x", is_staff=True)
    if role in GROUP_OF:
        user.groups.add(Group.objects.get(name=GROUP_OF[role]))
    client.force_login(user)
    return user


def written() -> tuple:
    """What a denied action must leave as it was."""
    return (
        Change.objects.count(),
        Operation.objects.count(),
        FixRecord.objects.count(),
        PhoneImport.objects.count(),
        PhoneImportUpload.objects.count(),
        tuple(Integration.objects.values_list("health_status", "success_count", "error_count")),
        tuple(m._base_manager.count() for m in (*EDITED, *READ)),
    )


def opens(response) -> bool:
    assert response.status_code in (200, 403), (response.status_code, response.get("Location"))
    return response.status_code == 200


def accepted(response) -> bool:
    assert response.status_code < 500, response.status_code
    return response.status_code != 403


def _gateway_model(name):
    return next(m for m in (*EDITED, *READ) if m.__name__ == name)


def check_cell(client, rows, subject: str, action: str) -> bool:
    """Whether ``action`` on ``subject`` is allowed; a denied write asserts nothing changed."""
    before = written()
    allowed = _check(client, rows, subject, action)
    if not allowed:
        assert written() == before, (subject, action)
    return allowed


def _check(client, rows, subject, action) -> bool:  # noqa: C901 (one branch per cell kind)
    if subject in {m.__name__ for m in (*EDITED, *READ)}:
        model = _gateway_model(subject)
        obj = rows[model]
        if action == "view":
            pages = [changelist_url(model), admin_url(obj), admin_url(obj, "history")]
            results = {opens(client.get(url)) for url in pages}
            assert len(results) == 1, (subject, results)  # all pages agree
            return results.pop()
        if action == "add":
            try:
                return opens(client.get(add_url(model)))
            except NoReverseMatch:
                return False
        if action == "change":
            # An empty form: refused (403), or shown again with its errors (nothing saved).
            return accepted(client.post(admin_url(obj), {}))
        if action == "delete":
            try:
                url = admin_url(obj, "delete")
            except NoReverseMatch:
                return False
            allowed = opens(client.get(url))
            if not allowed:
                assert client.post(url, {"post": "yes"}).status_code == 403
                assert model._base_manager.filter(pk=obj.pk).exists()
            return allowed
        if action == "import":
            upload = reverse("admin:integrations_app_phonenumber_phone_import")
            allowed = opens(client.get(upload))
            csv = io.BytesIO(b"number,company\n+49301234567,Firma 0000\n")
            csv.name = "numbers.csv"
            posted = client.post(upload, {"file": csv, "region": "DE"})
            assert accepted(posted) == allowed
            for name in ("phone_import_errors", "phone_import_preview"):
                url = reverse(f"admin:integrations_app_phonenumber_{name}")
                assert accepted(client.get(url)) == allowed, name
            confirm = reverse("admin:integrations_app_phonenumber_phone_import_confirm")
            assert accepted(client.post(confirm, {"token": "x"})) == allowed
            return allowed
        if action == "export":
            url = reverse("admin:integrations_app_phonenumber_export")
            allowed = opens(client.get(url))
            assert accepted(client.post(url, {"format": "0"})) == allowed
            changelist = client.get(changelist_url(PhoneNumber))
            if changelist.status_code == 200:
                assert (url in changelist.text) == allowed
            return allowed
        if action == "test connection":
            integration = rows[Integration]
            url = reverse("admin:integrations_app_integration_test", args=[integration.pk])
            allowed = accepted(client.post(url))
            changelist = client.get(changelist_url(Integration))
            if changelist.status_code == 200:
                form = changelist.context["action_form"]  # None: no action at all
                choices = dict(form.fields["action"].choices) if form else {}
                assert ("test_selected_connections" in choices) == allowed
            return allowed
        if action == "set credentials":
            page = client.get(admin_url(rows[Integration]))
            if page.status_code != 200:
                return False
            return 'name="new_api_key"' in page.text
    if subject == "dashboard":
        return opens(client.get(reverse("admin:audit_app_dashboard")))
    if subject == "fix":
        if action == "view":
            return opens(client.get(reverse("admin:audit_app_fix_preview", args=[FIX_ID])))
        url = reverse("admin:audit_app_fix_apply", args=[FIX_ID])
        return accepted(client.post(url, {"digest": "stale", "reason": "test"}))
    if subject in ("FixRecord", "PhoneImport", "Operation", "Change") and action == "view":
        model = {"FixRecord": FixRecord, "PhoneImport": PhoneImport}.get(subject)
        model = model or {"Operation": Operation, "Change": Change}[subject]
        pages = [changelist_url(model)]
        if model is not Change:
            pages.append(admin_url(rows[model]))
        results = {opens(client.get(url)) for url in pages}
        assert len(results) == 1, (subject, results)
        return results.pop()
    if subject == "Operation" and action == "undo":
        user = client.session.get("_auth_user_id")
        allowed = User.objects.get(pk=user).has_perm(roles.UNDO_OPERATION)
        try:
            url = reverse("admin:changelog_operation_undo", args=[rows[Operation].pk])
        except NoReverseMatch:
            return allowed
        assert accepted(client.post(url, {"digest": "stale", "reason": "test"})) == allowed
        return allowed
    raise AssertionError(f"no check for {subject} × {action}")


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"{c[0]}-{c[1]}".replace(" ", "_"))
def test_matrix(client, world, role, cell):
    login(client, role)
    subject, action = cell
    expected = role in MATRIX[cell]
    assert check_cell(client, world, subject, action) == expected, (role, subject, action)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_index_and_the_header_link_follow_the_role(client, world, role):
    login(client, role)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    dashboard = reverse("admin:audit_app_dashboard")
    assert (dashboard in page.text) == (role in VIEWERS)


def test_setup_roles_is_idempotent_and_exact(english):
    out = io.StringIO()
    call_command("setup_roles", stdout=out)
    assert "Group Support created" in out.getvalue()
    first = {g.name: set(g.permissions.all()) for g in Group.objects.all()}
    group = Group.objects.get(name=roles.SUPPORT)
    group.permissions.clear()  # an edited group is put back
    out = io.StringIO()
    call_command("setup_roles", stdout=out)
    assert "Group Support up to date" in out.getvalue()
    assert {g.name: set(g.permissions.all()) for g in Group.objects.all()} == first
    assert Group.objects.count() == 3

    def perms(name):
        return {
            f"{p.content_type.app_label}.{p.codename}" for p in first[name]
        }  # fmt: skip

    support, manager, read_only = perms(roles.SUPPORT), perms(roles.MANAGER), perms(roles.READ_ONLY)
    assert support < manager
    assert manager - support == {
        "audit_app.apply_fix",
        "integrations_app.bind_retell_number",
        "audit_app.record_snapshot",
        "changelog.undo_operation",
        "changelog.view_operation",
        "changelog.view_change",
        "audit_app.view_fixrecord",
        "integrations_app.view_phoneimport",
    }
    assert all(p.split(".")[1].startswith("view_") for p in read_only)
    assert "audit_app.view_dashboard" in support and "audit_app.apply_fix" not in support


def test_a_superuser_may_do_what_any_role_may(admin_client, world):
    # Notification templates have an editable admin, but no role edits them: the superuser does.
    for cell in CELLS:
        expected = bool(MATRIX[cell]) or cell[0] == "NotificationTemplate"
        assert check_cell(admin_client, world, *cell) == expected, cell
