"""The fix pages: a preview of exactly what is written, a confirm button, and every refusal."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from audit_app.fixes.service import preview
from audit_app.models import FixRecord
from changelog.models import Change, Operation
from integrations_app.models import Branch, Company
from tests import admin_rows

pytestmark = pytest.mark.django_db

FIX = "create-main-branch"
PREVIEW = f"/admin/audit_app/fixrecord/fix/{FIX}/"
APPLY = f"/admin/audit_app/fixrecord/fix/{FIX}/apply/"
DASHBOARD = "/admin/audit_app/fixrecord/dashboard/"


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def staff_client(client, *permissions: str):
    """A staff user who may see the dashboard and the previews, with ``permissions`` more."""
    user = get_user_model().objects.create_user("manager", password="pw-manager-123", is_staff=True)
    for codename in ("view_dashboard", *permissions):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return client


def branch_count() -> int:
    return Branch._base_manager.count()


def test_urls_are_stable():
    assert reverse("admin:audit_app_fix_preview", args=[FIX]) == PREVIEW
    assert reverse("admin:audit_app_fix_apply", args=[FIX]) == APPLY


def test_preview_lists_exactly_what_will_be_written(admin_client, demo):
    response = admin_client.get(PREVIEW, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.text
    plan = preview(FIX)
    assert len(plan.writes) == 6
    assert len(response.context["writes"]) == 6
    assert page.count('class="askpro-write askpro-write-create"') == 6
    assert "This fix will write exactly 6 rows" in page
    for write in plan.writes:
        assert escape(write.description) in page
    assert "Hauptfiliale" in page
    assert "<td>Branch</td>" in page  # the table by its name, not `branches`
    # The confirm form: POST, CSRF, the digest of this very plan.
    assert 'id="confirm-fix"' in page
    assert f'action="{APPLY}"' in page
    assert "csrfmiddlewaretoken" in page
    assert f'name="digest" value="{plan.digest}"' in page
    # An optional one-line reason.
    assert 'name="reason"' in page and 'maxlength="255"' in page
    assert "Reason (optional)" in page
    # Looking writes nothing.
    assert branch_count() == 9
    assert not FixRecord.objects.exists() and not Operation.objects.filter(source="fix").exists()


def test_preview_is_german_by_default(admin_client, demo):
    response = admin_client.get(PREVIEW)
    assert response.status_code == 200
    assert '<html lang="de"' in response.text


def test_apply_writes_the_plan_and_records_it(admin_client, admin_user, demo):
    digest = preview(FIX).digest
    response = admin_client.post(APPLY, {"digest": digest}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert branch_count() == 15
    assert Branch.objects.filter(name="Hauptfiliale").count() == 6
    record = FixRecord.objects.get()
    assert (record.fix_id, record.check_id) == (FIX, "AUD-BRN-001")
    assert record.applied_by == admin_user
    assert record.source == "dashboard" and record.reason == ""
    assert (record.created_count, record.changed_count) == (6, 0)
    operation = record.operation
    assert (operation.source, operation.name, operation.user) == ("fix", FIX, admin_user)
    assert Change.objects.filter(operation=operation, action="create").count() == 6
    # The dashboard says so, and shows it in the history.
    page = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    assert "6 rows created, 0 rows changed" in page
    assert f'id="fixrecord-{record.pk}"' in page
    # The check is closed now.
    assert 'id="check-AUD-BRN-001" data-count="0"' in page


def test_a_second_apply_writes_nothing_and_says_so(admin_client, demo):
    digest = preview(FIX).digest
    admin_client.post(APPLY, {"digest": digest})
    response = admin_client.post(APPLY, {"digest": digest}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert branch_count() == 15
    assert FixRecord.objects.count() == 1
    page = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").text
    assert "Nothing to do" in page
    # And the preview says it too, without a confirm button.
    page = admin_client.get(PREVIEW, HTTP_ACCEPT_LANGUAGE="en").text
    assert "Nothing to do" in page
    assert 'id="confirm-fix"' not in page


def test_a_stale_preview_is_shown_again_instead_of_written(admin_client, demo):
    old = preview(FIX).digest
    # Someone adds a branch to one of the companies meanwhile: the plan changes.
    company = Company.objects.exclude(pk__in=Branch.objects.values("company_id")).first()
    Branch.objects.create(company=company, name="Zweigstelle")
    before = branch_count()
    response = admin_client.post(APPLY, {"digest": old}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert branch_count() == before
    assert not FixRecord.objects.exists()
    page = response.text
    assert "The data changed since the preview" in page
    new = preview(FIX)
    assert len(new.writes) == 5
    assert f'name="digest" value="{new.digest}"' in page
    assert page.count('class="askpro-write askpro-write-create"') == 5


def test_a_wrong_digest_writes_nothing(admin_client, demo):
    response = admin_client.post(APPLY, {"digest": "0" * 64})
    assert response.status_code == 409
    assert branch_count() == 9
    assert not FixRecord.objects.exists()


def test_get_on_the_apply_url_is_refused(admin_client, demo):
    response = admin_client.get(APPLY, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "applied only with the confirm button" in response.text
    assert "Nothing was written" in response.text
    assert branch_count() == 9
    assert not FixRecord.objects.exists()


def test_unknown_fix_is_a_clear_404(admin_client):
    for response in (
        admin_client.get("/admin/audit_app/fixrecord/fix/no-such-fix/", HTTP_ACCEPT_LANGUAGE="en"),
        admin_client.post(
            "/admin/audit_app/fixrecord/fix/no-such-fix/apply/",
            {"digest": "x"},
            HTTP_ACCEPT_LANGUAGE="en",
        ),
    ):
        assert response.status_code == 404
        assert "There is no fix no-such-fix." in response.text
    assert not FixRecord.objects.exists()


def test_staff_without_the_permission_sees_no_button_and_cannot_apply(client, demo):
    staff = staff_client(client)
    page = staff.get(PREVIEW, HTTP_ACCEPT_LANGUAGE="en").text
    assert "askpro-write-create" in page  # may look
    assert 'id="confirm-fix"' not in page
    assert 'name="digest"' not in page
    assert "needs the permission" in page
    response = staff.post(APPLY, {"digest": preview(FIX).digest}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "You may not apply fixes" in response.text
    assert branch_count() == 9
    assert not FixRecord.objects.exists()


def test_staff_with_the_permission_may_apply(client, demo):
    staff = staff_client(client, "apply_fix")
    page = staff.get(PREVIEW).text
    assert 'id="confirm-fix"' in page
    response = staff.post(APPLY, {"digest": preview(FIX).digest})
    assert response.status_code == 302
    assert branch_count() == 15


def test_the_apply_form_needs_its_csrf_token(demo):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    user = get_user_model().objects.create_superuser("chefin", password="pw-chefin-123")
    csrf_client.force_login(user)
    response = csrf_client.post(APPLY, {"digest": preview(FIX).digest})
    assert response.status_code == 403
    assert branch_count() == 9


def test_the_needs_a_person_list_links_to_the_rows(admin_client):
    # A company with two branches: its staff member without a branch needs a person to choose.
    company = Company.objects.create(name="Zwei Filialen GmbH", slug="zwei-filialen")
    Branch.objects.create(company=company, name="Nord")
    Branch.objects.create(company=company, name="Süd")
    member = admin_rows.staff_without_branch(company)
    url = reverse("admin:audit_app_fix_preview", args=["attach-staff-to-branch"])
    response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.text
    assert 'id="needs-person"' in page
    assert f'href="{admin_rows.admin_url(member)}"' in page
    assert member.name in page
    # Nothing to write for it, so no confirm button.
    assert 'id="confirm-fix"' not in page


def test_the_fix_record_is_read_only_and_shows_before_and_after(admin_client, demo):
    admin_client.post(APPLY, {"digest": preview(FIX).digest})
    record = FixRecord.objects.get()
    changelist = admin_client.get(reverse("admin:audit_app_fixrecord_changelist"))
    assert changelist.status_code == 200
    assert "AUD-BRN-001" in changelist.text
    detail = admin_client.get(
        reverse("admin:audit_app_fixrecord_change", args=[record.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert detail.status_code == 200
    page = detail.text
    # The rows come from the change store, each linking to its page; the operation is linked.
    assert page.count('class="askpro-write askpro-write-create"') == 6
    assert "Hauptfiliale" in page
    for branch in Branch.objects.filter(name="Hauptfiliale"):
        assert f'href="{admin_rows.admin_url(branch)}"' in page  # each row links to its page
    operation_url = reverse("admin:changelog_operation_change", args=[record.operation.pk])
    assert f'href="{operation_url}"' in page
    assert admin_client.get(operation_url).status_code == 200
    assert 'name="_save"' not in page
    assert admin_client.get(reverse("admin:audit_app_fixrecord_add")).status_code == 403
    delete = reverse("admin:audit_app_fixrecord_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert FixRecord.objects.count() == 1


def test_the_reason_is_recorded_with_the_operation(admin_client, admin_user, demo):
    digest = preview(FIX).digest
    response = admin_client.post(
        APPLY, {"digest": digest, "reason": "  Ticket 4711:\n branches for routing "}
    )
    assert response.status_code == 302
    record = FixRecord.objects.get()
    assert record.reason == "Ticket 4711: branches for routing"
    assert record.operation.reason == "Ticket 4711: branches for routing"
    assert record.operation.user == admin_user
    page = admin_client.get(
        reverse("admin:audit_app_fixrecord_change", args=[record.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).text
    assert "Ticket 4711: branches for routing" in page


def test_a_too_long_reason_writes_nothing(admin_client, demo):
    response = admin_client.post(APPLY, {"digest": preview(FIX).digest, "reason": "x" * 256})
    assert response.status_code == 302
    assert response["Location"] == PREVIEW
    assert branch_count() == 9
    assert not FixRecord.objects.exists() and not Operation.objects.filter(source="fix").exists()


def test_a_required_reason_is_asked_for(admin_client, demo, settings):
    settings.CHANGE_REASON_REQUIRED = True
    page = admin_client.get(PREVIEW, HTTP_ACCEPT_LANGUAGE="en").text
    assert "Reason (required)" in page and 'name="reason" id="fix-reason"' in page
    assert " required " in page or " required>" in page
    digest = preview(FIX).digest
    response = admin_client.post(
        APPLY, {"digest": digest, "reason": "   "}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert "A reason is required" in response.text
    assert branch_count() == 9
    assert not FixRecord.objects.exists() and not Operation.objects.filter(source="fix").exists()
    admin_client.post(APPLY, {"digest": digest, "reason": "Audit 2026"})
    assert branch_count() == 15
    assert FixRecord.objects.get().operation.reason == "Audit 2026"


def test_a_fix_that_leaves_its_findings_open_says_so_before_and_after(admin_client, demo):
    """The walkthrough applied the Cal.com placeholders ("2 rows created") and AUD-INT-001
    kept its count, with nothing saying why: the preview and the message say what stays open."""
    placeholder = "calcom-placeholder"
    preview_url = reverse("admin:audit_app_fix_preview", args=[placeholder])
    page = admin_client.get(preview_url, HTTP_ACCEPT_LANGUAGE="en").text
    note = 'id="fix-leaves-open"'
    assert note in page
    assert "the findings stay until a key is entered" in page
    german = admin_client.get(preview_url).text
    assert "Was diese Korrektur nicht behebt:" in german and "die Befunde bleiben, bis" in german
    # A fix that closes its rows says nothing of the kind.
    assert note not in admin_client.get(PREVIEW, HTTP_ACCEPT_LANGUAGE="en").text

    before = admin_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").context["groups"]
    count = {p.check.id: p.outcome.count for g in before for p in g.checks}["AUD-INT-001"]
    response = admin_client.post(
        reverse("admin:audit_app_fix_apply", args=[placeholder]),
        {"digest": preview(placeholder).digest},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    page = response.text
    assert "rows created" in page and "the findings stay until a key is entered" in page
    assert f'id="check-AUD-INT-001" data-count="{count}"' in page  # as it said
