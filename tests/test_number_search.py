"""Phone numbers as people write them (issue 12, point 4): the number search and the company
search, index-friendly at the gateway's planned size (issue 13; admin/number_search.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations_app.admin import number_search
from integrations_app.models import Company, PhoneNumber, RetellAgent
from tests import admin_rows, audit_rows
from tests.admin_rows import changelist_url

pytestmark = pytest.mark.django_db

SONNE = "+49305559911"


@pytest.fixture
def world():
    sonne = audit_rows.company("Praxis Sonne", retell_agent_id="agent_sonne_company")
    mond = audit_rows.company("Praxis Mond")
    hafen = audit_rows.company("Kanzlei Hafen")
    charlottenburg = audit_rows.branch(sonne, "Charlottenburg")
    spandau = audit_rows.branch(mond, "Spandau", retell_agent_id="agent_mond_branch")
    altona = audit_rows.branch(hafen, "Altona")
    rows = [
        (sonne, charlottenburg, SONNE, SONNE, "Empfang"),
        (mond, spandau, "+49305559912", "+49305559912", "Zentrale"),
        (hafen, altona, "+49405559911", "+49405559911", None),  # the same subscriber number
        (hafen, altona, "+49 89 1234567", "49891234567", None),  # as stored, without the plus
    ]
    for company, branch, number, normalized, label in rows:
        PhoneNumber.objects.create(
            company=company,
            branch=branch,
            number=number,
            number_normalized=normalized,
            phone_number=normalized,
            label=label,
        )
    RetellAgent.objects.create(company=hafen, agent_id="agent_hafen_registered", name="Hafen")
    return {"sonne": sonne, "mond": mond, "hafen": hafen, "spandau": spandau}


def numbers_found(client, term):
    response = client.get(changelist_url(PhoneNumber), {"q": term})
    assert response.status_code == 200, term
    return sorted(row.number for row in response.context["cl"].result_list)


def companies_found(client, term):
    response = client.get(changelist_url(Company), {"q": term})
    assert response.status_code == 200, term
    return sorted(row.name for row in response.context["cl"].result_list)


def test_three_writings_of_a_number_find_it(admin_client, world):
    assert numbers_found(admin_client, "030 555 9911") == [SONNE]
    assert numbers_found(admin_client, "+49 30 5559911") == [SONNE]
    assert numbers_found(admin_client, "0049 (30) 555-99 11") == [SONNE]
    # The subscriber number alone: its end, in any area.
    assert numbers_found(admin_client, "5559911") == [SONNE, "+49405559911"]
    assert numbers_found(admin_client, "555 99 11") == [SONNE, "+49405559911"]


def test_the_start_of_a_number_in_any_notation(admin_client, world):
    assert numbers_found(admin_client, "030 555 99") == [SONNE, "+49305559912"]
    assert numbers_found(admin_client, "49 30 555") == [SONNE, "+49305559912"]
    # A row whose number_normalized lacks its plus, and whose number is stored with spaces.
    assert numbers_found(admin_client, "089 1234567") == ["+49 89 1234567"]
    assert numbers_found(admin_client, "+49 89 12") == ["+49 89 1234567"]
    assert numbers_found(admin_client, "1234567") == ["+49 89 1234567"]
    assert numbers_found(admin_client, "99 11") == []  # too short for an end: no guess


def test_last_digits_with_a_leading_zero(admin_client, world):
    PhoneNumber.objects.create(
        company=world["mond"], number="+49302070762", number_normalized="+49302070762"
    )
    assert numbers_found(admin_client, "070762") == ["+49302070762"]  # not a whole number
    assert numbers_found(admin_client, "030 5559911") == [SONNE]  # a whole one: no end search


def test_a_number_by_its_branch_label_or_company(admin_client, world):
    assert numbers_found(admin_client, "Charlottenb") == [SONNE]
    assert numbers_found(admin_client, "spandau") == ["+49305559912"]
    assert numbers_found(admin_client, "Empf") == [SONNE]
    assert numbers_found(admin_client, "Kanzlei") == ["+49 89 1234567", "+49405559911"]
    assert numbers_found(admin_client, "harlottenburg") == []  # the start, not any part


def test_a_company_by_one_of_its_numbers(admin_client, world):
    assert companies_found(admin_client, "030 555 9911") == ["Praxis Sonne"]
    assert companies_found(admin_client, "+49 30 5559912") == ["Praxis Mond"]
    assert companies_found(admin_client, "5559911") == ["Kanzlei Hafen", "Praxis Sonne"]
    assert companies_found(admin_client, "089 1234567") == ["Kanzlei Hafen"]
    assert companies_found(admin_client, "Praxis") == ["Praxis Mond", "Praxis Sonne"]
    # The start of a number is no company's number: "+49" would list every company.
    assert companies_found(admin_client, "+49 30") == []
    assert companies_found(admin_client, "030 555") == []


def test_a_company_by_its_retell_agent_id(admin_client, world):
    assert companies_found(admin_client, "agent_sonne_company") == ["Praxis Sonne"]
    assert companies_found(admin_client, "agent_hafen_registered") == ["Kanzlei Hafen"]
    assert companies_found(admin_client, "agent_mond_branch") == ["Praxis Mond"]
    assert companies_found(admin_client, "agent_sonne") == []  # the whole id
    assert companies_found(admin_client, "agent_unknown") == []


def test_many_numbers_ending_alike_are_capped_and_said_so(admin_client, world, monkeypatch):
    monkeypatch.setattr(number_search, "MAX_KEYS", 1)
    response = admin_client.get(changelist_url(PhoneNumber), {"q": "5559911"})
    assert len(response.context["cl"].result_list) == 1
    assert "Mehr als 1 Nummern enden auf 5559911" in response.text
    PhoneNumber.objects.create(
        company=world["mond"], branch=world["spandau"], number="+49305550000"
    )
    response = admin_client.get(changelist_url(PhoneNumber), {"q": "Spandau"})
    assert len(response.context["cl"].result_list) == 1
    assert "Mehr als 1 Nummern gehören zu Filialen, deren Name mit „Spandau“" in response.text


SHAPES = {
    "a whole number": "030 555 9911",
    "the start of a number": "+49 30 555",
    "the end of a number": "5559911",
    "a branch": "Filiale 0001",
    "a word": "Firma",
}


def search_queries(client, url, term) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, {"q": term}).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("model", [PhoneNumber, Company])
def test_each_search_shape_runs_a_fixed_number_of_queries(admin_client, model):
    """The same queries for 10 rows as for 300; a whole number or the start of one runs one
    query less than the other shapes (the end of a number and a word each read keys first:
    the end's index scan, the branches' numbers)."""
    url = changelist_url(model)
    admin_rows.build(0, 10)

    def counts():
        return {name: len(search_queries(admin_client, url, t)) for name, t in SHAPES.items()}

    counts()  # warm caches
    small = counts()
    admin_rows.build(10, 300)
    assert counts() == small
    word = small["a word"]
    if model is PhoneNumber:
        assert small["the end of a number"] == small["a branch"] == word
        assert small["a whole number"] == small["the start of a number"] == word - 1
    else:  # the company search: the end of a number reads keys first
        assert small["the end of a number"] == word + 1
        assert small["a whole number"] == small["the start of a number"] == word


def test_only_the_end_of_a_number_reads_an_index_from_its_start(admin_client):
    admin_rows.build(0, 3)
    url = changelist_url(PhoneNumber)
    for name, term in SHAPES.items():
        sql = " ".join(search_queries(admin_client, url, term))
        if name != "the end of a number":
            assert "LIKE '%" not in sql.replace("%%", "%"), name
    scans = [
        sql
        for sql in search_queries(admin_client, url, "5559911")
        if "5559911" in sql and "LIKE" in sql and "%5559911" in sql.replace("%%", "%")
    ]
    (scan,) = scans  # its own query: the keys only (the index holds them), and a limit
    select = scan.split(" FROM ")[0]
    assert select.count(",") == 0 and '"id"' in select.replace("`", '"'), scan
    assert f"LIMIT {number_search.MAX_KEYS + 1}" in scan


def test_the_list_shows_the_label_and_a_differing_e164_form_in_the_number_s_cell(
    admin_client, world
):
    """Six columns fit beside the filters at 1280 px (the browser test measures it): the label
    and number_normalized, when it is not the number, are under the number, not columns."""
    response = admin_client.get(changelist_url(PhoneNumber), HTTP_ACCEPT_LANGUAGE="de")
    page = response.content.decode()
    heads = page.split('id="result_list"')[1].split("</thead>")[0]
    assert heads.count("<th ") == 7  # the checkbox, number, company, branch, type, active, primary
    assert "column-label" not in heads and "column-number_normalized" not in heads
    rows = {
        row.split("</th>")[0]: row for row in page.split('<th class="field-number_column">')[1:]
    }
    sonne = next(row for key, row in rows.items() if SONNE in key)
    assert '<span class="askpro-number-label">Empfang</span>' in sonne
    assert "askpro-number-gap" not in sonne  # stored in E.164: nothing more to say
    stored = next(row for key, row in rows.items() if "+49 89 1234567" in key)
    assert '<span class="askpro-number-gap">Nummer (E.164): 49891234567</span>' in stored
