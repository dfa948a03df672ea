"""A preview confirmed in another language is the same plan: the digest covers only the writes."""

import pytest
from django.utils import translation

from audit_app.fixes import service
from integrations_app.models import Branch, Company

pytestmark = pytest.mark.django_db


def test_a_german_preview_confirmed_in_english_applies():
    company = Company.objects.create(name="Praxis Zweisprachig")
    with translation.override("de"):
        plan = service.preview("create-main-branch")
    with translation.override("en"):
        record = service.apply_fix(fix_id="create-main-branch", digest=plan.digest)
    assert record.created_count == 1
    branch = Branch.objects.get(company=company)
    assert branch.name == "Hauptfiliale"
    assert record.operation.changes.get().object_pk == branch.pk


def test_a_changed_plan_is_still_stale():
    Company.objects.create(name="Praxis Eins")
    plan = service.preview("create-main-branch")
    Company.objects.create(name="Praxis Zwei")
    with pytest.raises(service.StalePlan) as stale:
        service.apply_fix(fix_id="create-main-branch", digest=plan.digest)
    assert len(stale.value.plan.writes) == 2
    assert not Branch.objects.exists()
