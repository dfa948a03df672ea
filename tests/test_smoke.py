import pytest

from integrations_app.models import Company


@pytest.mark.django_db
def test_gateway_tables_exist_in_the_test_database():
    assert Company.objects.count() == 0
    Company.objects.create(name="Probe GmbH")
    assert Company.objects.get().name == "Probe GmbH"
