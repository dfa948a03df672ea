"""Secrets never leak: a canary key set through the real write path appears on no page or log."""

import logging
from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from changelog.models import Change, Operation
from integrations_app import credentials
from integrations_app.models import Company, Integration

pytestmark = pytest.mark.django_db
CANARIES = ("cal_test_canary_5f3a9c1e7b2d4", "key_test_canary_8e6d4b2a0c9f1")


def admin_pages(rows):
    """Every admin page of the console: index, changelists, add, change, history, delete, and
    the audit's dashboard and fix previews."""
    from audit_app.fixes.base import all_fixes

    yield reverse("admin:index")
    yield reverse("admin:audit_app_dashboard")
    for fix in all_fixes():
        yield reverse("admin:audit_app_fix_preview", args=[fix.id])
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        yield reverse(f"{base}_changelist")
        yield reverse(f"{base}_changelist") + "?q=canary"
        if model_admin.has_add_permission(_Request()):
            yield reverse(f"{base}_add")
        for obj in rows.get(model, []):
            for view in ("change", "history", "delete"):
                try:
                    yield reverse(f"{base}_{view}", args=[obj.pk])
                except NoReverseMatch:
                    continue


class _Request:
    class user:  # noqa: N801 (a stand-in for request.user)
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(*args, **kwargs):
            return True


def test_the_canary_appears_on_no_page_and_in_no_log(gateway_key, admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    company = Company.objects.create(name="Praxis Kanarienvogel")
    calcom = credentials.save_core_integration(
        company_id=company.pk, provider="calcom", api_key=CANARIES[0],
        settings=credentials.IntegrationSettings(event_type_id=4711),
    )  # fmt: skip
    retell = credentials.save_core_integration(
        company_id=company.pk, provider="retell", api_key=CANARIES[1],
        settings=credentials.IntegrationSettings(agent_id="agent_test_canary"),
    )  # fmt: skip
    company.refresh_from_db()
    stored = [calcom.api_key, retell.api_key, company.calcom_api_key, company.retell_api_key]
    rows = {
        Company: [company],
        Integration: [calcom, retell],
        Operation: list(Operation.objects.all()),
        Change: list(Change.objects.all()),
    }
    assert rows[Change], "the saves are recorded in the change store"
    recorded = " ".join(f"{c.before} {c.after} {c.object_repr}" for c in rows[Change])
    for secret in (*CANARIES, *(s[:40] for s in stored)):
        assert secret not in recorded and secret[-10:] not in recorded
    pages = 0
    for url in admin_pages(rows):
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 403), (url, response.status_code)
        body = response.content.decode()
        for canary in CANARIES:
            assert canary not in body and canary[-10:] not in body, url
        for ciphertext in stored:
            assert ciphertext[:40] not in body, url  # not even the encrypted form
        pages += 1
    assert pages > 40
    for output_format in ("json", "markdown", "text"):
        out = StringIO()
        call_command("audit", "--format", output_format, "--fail-on", "never", stdout=out)
        for canary in CANARIES:
            assert canary not in out.getvalue() and canary[-10:] not in out.getvalue()
    for canary in CANARIES:
        assert canary not in caplog.text and canary[-10:] not in caplog.text


def test_an_error_report_never_shows_the_key_even_with_debug(
    gateway_key, admin_client, company_for_report, monkeypatch
):
    """Django's error report (the DEBUG page, the mail to admins) hides the pasted key."""
    import sys

    from django.test import override_settings
    from django.views.debug import ExceptionReporter

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(credentials, "save_core_integration", broken)
    admin_client.raise_request_exception = True
    url = reverse("admin:integrations_app_integration_add") + "?provider=calcom"
    data = {"company": company_for_report.pk, "new_api_key": CANARIES[0], "event_type_id": "4711",
            "environment": "production", "is_active": "on"}  # fmt: skip
    with override_settings(DEBUG=True), pytest.raises(RuntimeError):
        try:
            admin_client.post(url, data)
        except RuntimeError:
            exc_info = sys.exc_info()
            raise
    # Report from where Django's request handling starts, as in production: the frames above
    # it are the test's and the test client's, which hold the POST data the test built.
    exc_type, exc_value, tb = exc_info
    while tb is not None and "django/core/handlers" not in tb.tb_frame.f_code.co_filename:
        tb = tb.tb_next
    assert tb is not None
    with override_settings(DEBUG=True):
        html = ExceptionReporter(None, exc_type, exc_value, tb).get_traceback_html()
        text = ExceptionReporter(None, exc_type, exc_value, tb).get_traceback_text()
    assert "save_model" in html  # the frame that held the form's data is in the report
    for report in (html, text):
        assert CANARIES[0] not in report and CANARIES[0][-10:] not in report


@pytest.fixture
def company_for_report():
    return Company.objects.create(name="Praxis Fehlerbericht")


def test_a_canary_in_every_declared_secret_column_appears_nowhere(gateway_key, admin_client):
    """Every column the models declare secret (``SECRET_COLUMNS``, in its flavour) gets its own
    canary through the write path; the history, every admin page and the audit hide them all."""
    from integrations_app import services
    from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
    from integrations_app.models import GATEWAY_MODELS
    from tests import admin_rows

    encrypter = Encrypter.from_settings()
    rows = admin_rows.one_of_each()
    planted = []
    for model in GATEWAY_MODELS:
        if not model.SECRET_COLUMNS:
            continue
        obj = rows[model]
        values = {}
        for i, (column, flavour) in enumerate(model.SECRET_COLUMNS.items()):
            canary = f"cal_test_canary_{model.__name__.lower()}_{i}_x9q7"
            planted.append(canary)
            if flavour == SERIALIZED:
                values[column] = encrypter.encrypt(canary)
            elif flavour == RAW:
                values[column] = encrypter.encrypt_string(canary)
            elif model._meta.get_field(column).get_internal_type() == "JSONField":
                values[column] = {"token": canary}
            else:
                values[column] = canary
        assert services.update_rows(model=model, values={obj.pk: values}, allow_secrets=True)
    planted += plant_optional_secrets(rows)
    assert len(planted) >= 15
    recorded = " ".join(f"{c.before} {c.after}" for c in Change.objects.all())
    listing = {model: [rows[model]] for model in GATEWAY_MODELS}
    listing[Operation] = list(Operation.objects.all())
    listing[Change] = list(Change.objects.all())
    for url in admin_pages(listing):
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code in (200, 403), (url, response.status_code)
        body = response.content.decode()
        for canary in planted:
            assert canary[-12:] not in body, (url, canary)
    for canary in planted:
        assert canary[-12:] not in recorded
    out = StringIO()
    call_command("audit", "--format", "json", "--fail-on", "never", stdout=out)
    for canary in planted:
        assert canary[-12:] not in out.getvalue()


def plant_optional_secrets(rows) -> list[str]:
    """A canary in each optional secret column (``OPTIONAL_SECRET_COLUMNS``, e.g. the customer
    portal's token): written behind the console's back, as the gateway does, then the row saved
    through the write path so the history snapshots it. The reference schema has the columns;
    on SQLite the test adds them (rolled back with the test); tables built from the models on
    MariaDB lack them, and there is nothing to plant."""
    from django.db import connection

    from integrations_app import gateway_schema, services
    from integrations_app.models import GATEWAY_MODELS
    from tests import support

    live = gateway_schema.live_columns()
    planted = []
    for model in GATEWAY_MODELS:
        table = model._meta.db_table
        for i, column in enumerate(getattr(model, "OPTIONAL_SECRET_COLUMNS", {})):
            if column not in live.get(table, {}):
                if connection.vendor != "sqlite":
                    continue  # DDL on MariaDB would outlive the test
                with connection.cursor() as cursor:
                    cursor.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" varchar(255)')
            obj = rows[model]
            canary = f"portal_test_canary_{table}_{i}_k3v8w"
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {connection.ops.quote_name(table)} "  # noqa: S608 (names from models)
                    f"SET {connection.ops.quote_name(column)} = %s WHERE id = %s",
                    [canary, obj.pk],
                )
                assert cursor.rowcount == 1
            planted.append(canary)
            # A change of another column through the write path: the history snapshots the row.
            assert services.update_rows(model=model, values={obj.pk: {"name": "Kanarie"}})
    if connection.vendor == "sqlite" or support.tables_source() == "reference":
        assert planted, "the customer portal's token is planted where its column exists"
    return planted
