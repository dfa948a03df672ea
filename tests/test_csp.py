"""Content-Security-Policy without 'unsafe-inline' (django-csp 4), and the favicon.

The policy allows scripts and styles only from the console's own static files, so no page may
hold an inline <script> (a JSON data block aside: it is never executed), a <style> element, a
style="" attribute, an on…="" handler or a javascript: URL; the browser would refuse each one
(and the page would look or work differently). Checked here on the rendered HTML of the main
pages with the test client; the browser tier (tests/browser/) checks what Chromium reports.
"""

import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from audit_app import snapshots
from audit_app.fixes.service import preview
from audit_app.models import FixRecord, ProviderReconciliation
from integrations_app import reconcile_calcom
from integrations_app.admin.key_panel import key_resolution_panel
from integrations_app.models import Company, PhoneNumber, Staff
from tests import audit_rows as r
from tests.admin_rows import admin_url, changelist_url
from tests.phone_import_files import csv_bytes
from tests.test_phone_import import HEADER_DE

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"
FIX = "create-main-branch"
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href")


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' refuses, and the static files referenced."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refused: list[str] = []
        self.static: list[str] = []
        self.icons: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs)[:120]}>"
        if tag == "style":
            self.refused.append(f"<style> element: {where}")
        data_block = (attributes.get("type") or "").lower() == "application/json"
        if tag == "script" and not attributes.get("src") and not data_block:
            self.refused.append(f"inline <script>: {where}")
        for name, value in attrs:
            if name == "style":
                self.refused.append(f"style attribute: {where}")
            elif re.fullmatch(r"on[a-z]+", name):
                self.refused.append(f"event handler {name}: {where}")
            elif name in URL_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.refused.append(f"javascript: URL: {where}")
        url = attributes.get("src") if tag == "script" else None
        if tag == "link" and attributes.get("rel") in ("stylesheet", "icon"):
            url = attributes.get("href")
            if attributes.get("rel") == "icon":
                self.icons.append(url)
        if url and url.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            self.static.append(url)


def assert_csp_clean(response):
    """The policy is sent, allows no inline code, and the page holds none."""
    assert response.status_code == 200, response.status_code
    policy = response.headers.get("Content-Security-Policy")
    assert policy, "no Content-Security-Policy header"
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    for directive in ("default-src", "script-src", "style-src"):
        assert directives[directive] == ["'self'"], (directive, policy)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    parser = InlineCode()
    parser.feed(response.content.decode())
    parser.close()
    assert parser.refused == [], "\n".join(parser.refused)
    # Every script and style sheet the page names is a static file that exists.
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    for url in parser.static:
        path = url[len(static_prefix) :].split("?")[0]
        assert finders.find(path), f"{url} names no static file"
    return parser


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def world():
    """A company with an integration of each health, a staff row whose branch is gone, a number."""
    praxis = r.company("Praxis Dr. Lindenberg")
    mitte = r.branch(praxis, "Mitte")
    r.branch(praxis, "Pankow")
    salon = r.company("Salon Haarmonie")
    r.branch(salon, "Altona")
    calcom = r.integration(praxis, "calcom", health_status="healthy")
    retell = r.integration(salon, "retell", health_status="unhealthy")
    r.staff(praxis, branch_id="00000000-0000-0000-0000-00000000dead")
    r.number(praxis, "+493023125101", mitte)
    return {"praxis": praxis, "salon": salon, "calcom": calcom, "retell": retell}


def test_the_admin_index_and_the_login(client, admin_client):
    parser = assert_csp_clean(client.get(reverse("admin:login"), **EN))
    assert parser.icons, "the login names no icon"
    parser = assert_csp_clean(admin_client.get(reverse("admin:index"), **EN))
    assert "/static/console/console.js" in parser.static
    assert "/static/console/console.css" in parser.static
    assert parser.icons and all(finders.find(i.split("/static/", 1)[1]) for i in parser.icons)


def test_the_language_switch_needs_no_inline_handler(admin_client):
    page = admin_client.get(reverse("admin:index"), **EN).content.decode()
    assert '<select id="askpro-language" name="language">' in page
    script = finders.find("console/console.js")
    with open(script, encoding="utf-8") as handle:
        assert "form.askpro-language" in handle.read()


def test_the_dashboard(admin_client, demo):
    snapshots.record()  # a snapshot: the measures draw their sparklines
    response = admin_client.get(DASHBOARD, **EN)
    parser = assert_csp_clean(response)
    assert "/static/console/audit.css" in parser.static
    page = response.content.decode()
    assert 'class="askpro-spark"' in page
    # The measures' bars and the severities' colours come from classes, not style attributes.
    assert '<rect width="30.8" height="1">' in page
    assert 'class="askpro-severity askpro-severity-critical"' in page


@pytest.mark.parametrize("fix", [FIX, "normalize-numbers", "attach-staff-to-branch"])
def test_a_fix_preview(admin_client, demo, fix):
    assert_csp_clean(admin_client.get(reverse("admin:audit_app_fix_preview", args=[fix]), **EN))


def test_an_applied_fix_its_operation_and_undo(admin_client, demo):
    apply = reverse("admin:audit_app_fix_apply", args=[FIX])
    admin_client.post(apply, {"digest": preview(FIX).digest}, **EN)
    record = FixRecord.objects.get()
    assert_csp_clean(admin_client.get(admin_url(record, "change"), **EN))
    assert_csp_clean(admin_client.get(changelist_url(FixRecord), **EN))
    operation = reverse("admin:changelog_operation_change", args=[record.operation_id])
    assert_csp_clean(admin_client.get(operation, **EN))
    undo = reverse("admin:changelog_operation_undo", args=[record.operation_id])
    assert_csp_clean(admin_client.get(undo, **EN))
    assert_csp_clean(admin_client.get(reverse("admin:audit_app_compare"), **EN))


def test_the_phone_number_import_and_its_preview(admin_client, world):
    assert_csp_clean(admin_client.get(reverse("admin:integrations_app_phonenumber_changelist")))
    upload = reverse("admin:integrations_app_phonenumber_phone_import")
    assert_csp_clean(admin_client.get(upload, **EN))
    rows = [
        HEADER_DE,
        ["Praxis Dr. Lindenberg", "Mitte", "030 23125102", "Hotline", "nein", "ja", ""],
        ["Bäckerei Meier", "", "12", "", "", "", ""],
    ]
    file = SimpleUploadedFile("nummern.csv", csv_bytes(rows, delimiter=";"), "text/csv")
    response = admin_client.post(upload, {"file": file, "region": "DE"}, **EN)
    assert_csp_clean(response)
    assert response.context["has_errors"]
    preview_url = reverse("admin:integrations_app_phonenumber_phone_import_preview")
    assert_csp_clean(admin_client.get(preview_url, {"status": "error"}, **EN))
    # A file without errors: the confirm form (it was display:inline by a style attribute).
    file = SimpleUploadedFile("ok.csv", csv_bytes(rows[:2], delimiter=";"), "text/csv")
    response = admin_client.post(upload, {"file": file, "region": "DE"}, **EN)
    assert_csp_clean(response)
    page = response.content.decode()
    assert 'name="confirm"' in page and 'class="askpro-inline-form"' in page


def test_an_integration_and_a_company_with_its_key_panel(admin_client, world):
    assert_csp_clean(admin_client.get(admin_url(world["calcom"], "change"), **EN))
    assert_csp_clean(admin_client.get(admin_url(world["praxis"], "change"), **EN))
    response = admin_client.get(changelist_url(Company), **EN)
    assert_csp_clean(response)
    # The integration states and the key panel carry their colours as classes.
    page = response.content.decode()
    assert 'class="askpro-health-healthy"' in page and 'class="askpro-health-unhealthy"' in page
    panel = key_resolution_panel(world["praxis"])
    assert 'class="askpro-uses-' in panel and "style=" not in panel


def test_a_missing_reference_is_marked_by_a_class(admin_client, world):
    response = admin_client.get(changelist_url(Staff), **EN)
    assert_csp_clean(response)
    assert 'class="askpro-missing"' in response.content.decode()


def test_an_unavailable_reconciliation_is_marked_by_a_class(world):
    ProviderReconciliation.objects.create(
        kind=reconcile_calcom.KIND,
        company_id=world["praxis"].pk,
        available=False,
        reason="no key",
    )
    panel = str(reconcile_calcom.company_panel(world["praxis"].pk))
    assert 'class="askpro-unavailable-text"' in panel and "style=" not in panel


def test_the_routing_page(admin_client, world):
    route = reverse("admin:integrations_app_phonenumber_route")
    assert_csp_clean(admin_client.get(route, **EN))
    assert_csp_clean(admin_client.get(route, {"number": "030 23125101", "agent": ""}, **EN))


def test_the_history_pages(admin_client, world):
    assert_csp_clean(admin_client.get(admin_url(world["praxis"], "history"), **EN))
    number = PhoneNumber._base_manager.get()
    assert_csp_clean(admin_client.get(admin_url(number, "history"), **EN))
    assert_csp_clean(admin_client.get(reverse("admin:changelog_operation_changelist"), **EN))
    assert_csp_clean(admin_client.get(reverse("admin:changelog_change_changelist"), **EN))


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\x00\x00\x01\x00")  # an ICO file
    assert "max-age" in response["Cache-Control"]
    assert finders.find("console/favicon.svg")
