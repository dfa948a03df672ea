"""The company page as the place to configure a company (issue 12, point 2).

Its integrations with "set up" / "change" / "test the connection", its branches, numbers and
staff as linked counts, its open findings from the latest audit snapshot (this company's only),
a help text per flag, and the key panel in the user's words with the gateway's names as detail.
"""

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from audit_app import snapshots
from integrations_app import roles
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.integration_kinds import KINDS
from integrations_app.models import Branch, Company, PhoneNumber, Staff
from tests import audit_rows as r
from tests import fake_providers as fp
from tests.admin_rows import add_url, admin_url, changelist_url

pytestmark = pytest.mark.django_db

DE = {"HTTP_ACCEPT_LANGUAGE": "de"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def hrefs(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


def hub(html: str) -> str:
    """The parts above the form (the form itself has its own links and texts)."""
    start = html.index('class="askpro-company-hub"')
    return html[start : html.index('id="company_form"')]


@pytest.fixture
def praxis(gateway_key):
    company = r.company("Praxis Lindenberg")
    mitte = r.branch(company, "Mitte")
    r.branch(company, "Pankow")
    r.staff(company, mitte)
    r.number(company, r.line(1), mitte)
    calcom = fp.make_integration(company, "calcom", health_status="healthy")
    return company, calcom


@pytest.mark.parametrize(
    ("headers", "texts"),
    [
        (
            DE,
            (
                "Integrationen",
                "Verbindung testen",
                'class="askpro-change">ändern</a>',
                'class="askpro-set-up">einrichten</a>',
                'class="askpro-health-healthy">in Ordnung',
                "Filialen, Nummern und Mitarbeiter",
                "Offene Audit-Befunde",
                "Während eines Anrufs: freie Zeiten prüfen und einen Termin buchen",
                "Der eigene Cal.com-Schlüssel dieser Firma.",
                "Wird nur von Hand gesetzt: Kein Formular",
            ),
        ),
        (
            EN,
            (
                "Integrations",
                "Test the connection",
                'class="askpro-change">change</a>',
                'class="askpro-set-up">set up</a>',
                'class="askpro-health-healthy">healthy',
                "Branches, numbers and staff",
                "Open audit findings",
                "During a call: checking free times and booking an appointment",
                "This company&#x27;s own Cal.com key.",
                "Set by hand only: no form, fix or import",
            ),
        ),
    ],
)
def test_the_page_shows_each_part_in_the_users_language(admin_client, praxis, headers, texts):
    company, calcom = praxis
    # The company's key, as the Cal.com integration writes it: the team import uses it.
    Company.objects.filter(pk=company.pk).update(
        calcom_api_key=Encrypter.from_settings().encrypt(fp.CAL_CANARY)
    )
    page = admin_client.get(admin_url(company), **headers).content.decode()
    for text in texts:
        assert text in page, text
    # The engineers' names stay, as the detail.
    assert "CalcomV2Service" in page and "companies.calcom_api_key" in page
    # Counts of the company's rows; the key as its fingerprint, never the key.
    counts = re.findall(r"<strong>(\d+)</strong>", hub(page))
    assert counts == ["2", "1", "1"]
    assert "fingerprint" in page or "Fingerabdruck" in page
    fp.assert_no_secret(page)


def test_the_links_go_to_the_right_pages(admin_client, praxis):
    company, calcom = praxis
    page = hub(admin_client.get(admin_url(company), **EN).content.decode())
    links = hrefs(page)
    assert admin_url(calcom) in links  # "change"
    # "set up" for each kind it lacks: the add page with the company and the kind chosen.
    retell = next(h for h in links if "provider=retell" in h)
    assert urlsplit(retell).path == add_url(calcom.__class__)
    assert parse_qs(urlsplit(retell).query) == {
        "company": [str(company.pk)],
        "provider": ["retell"],
    }
    assert not any("provider=calcom" in h for h in links)  # it has one: no "set up"
    # "Test the connection": a form posting to the existing test URL, with its CSRF token.
    test_url = reverse("admin:integrations_app_integration_test", args=[calcom.pk])
    action = re.escape(f'action="{test_url}"')
    form = re.search(rf"<form method=\"post\" {action}[^>]*>(.*?)</form>", page, re.S)
    assert form and "csrfmiddlewaretoken" in form.group(1)
    # The counts link to the lists filtered for the company, which show its rows only.
    other = r.company("Andere Firma")
    r.branch(other, "Altona")
    for model, count in ((Branch, 2), (PhoneNumber, 1), (Staff, 1)):
        url = f"{changelist_url(model)}?company__id__exact={company.pk}"
        assert url in links
        listing = admin_client.get(url)
        assert listing.status_code == 200
        assert [row.company_id for row in listing.context["cl"].result_list] == [company.pk] * count
    # The add page opens with the company and the kind chosen.
    form = admin_client.get(retell).context["adminform"].form
    assert str(form.initial["company"]) == str(company.pk)
    assert form.initial["provider"] == "retell"


def test_a_company_without_integrations_offers_set_up_for_each_kind(admin_client):
    company = r.company("Ohne Integration")
    page = hub(admin_client.get(admin_url(company), **DE).content.decode())
    set_up = [h for h in hrefs(page) if urlsplit(h).path == add_url(company.integrations.model)]
    assert sorted(parse_qs(urlsplit(h).query)["provider"][0] for h in set_up) == sorted(KINDS)
    assert page.count(">einrichten<") == len(KINDS)
    assert "Verbindung testen" not in page


def test_the_findings_are_this_companys_only(admin_client):
    page = hub(admin_client.get(admin_url(r.company("Vor dem Audit")), **EN).content.decode())
    assert "No audit snapshot has been recorded yet" in page

    praxis = r.company("Praxis Ohnefiliale")
    r.number(praxis, r.line(5))  # a number without a branch: AUD-PHN-005
    salon = r.company("Salon Ohnenummer")  # no number at all: AUD-PHN-001
    r.branch(salon, "Altona")
    other = r.company("Dritte Firma")
    r.number(other, r.line(6))  # another company's number without a branch
    snapshots.record(source="command")

    page = hub(admin_client.get(admin_url(praxis), **EN).content.decode())
    assert "As of the audit snapshot of" in page
    assert "AUD-PHN-005" in page and r.line(5) in page.replace(" ", "")
    assert "AUD-PHN-001" not in page  # the salon's finding
    assert r.line(6) not in page.replace(" ", "")  # the other company's number
    assert reverse("admin:audit_app_check", args=["AUD-PHN-005"]) in page

    page = hub(admin_client.get(admin_url(salon), **EN).content.decode())
    assert "AUD-PHN-001" in page and "AUD-PHN-005" not in page

    # A newer snapshot replaces the one the pages have read and kept.
    r.number(salon, r.line(7))
    snapshots.record(source="command")
    page = hub(admin_client.get(admin_url(salon), **EN).content.decode())
    assert "AUD-PHN-001" not in page and "AUD-PHN-005" in page


def test_a_read_only_user_gets_no_set_up_and_no_test(client, praxis):
    company, calcom = praxis
    call_command("setup_roles", stdout=io.StringIO())
    user = User.objects.create_user("leser", password="x-test-7", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.READ_ONLY))
    client.force_login(user)
    page = hub(client.get(admin_url(company), **EN).content.decode())
    assert "Integrations" in page and "Open audit findings" in page
    assert "provider=retell" not in page and "Test the connection" not in page
    assert f'<a href="{admin_url(calcom)}" class="askpro-change">view</a>' in page


def test_the_test_button_returns_to_the_company_page(fake, admin_client, praxis):
    company, calcom = praxis
    url = reverse("admin:integrations_app_integration_test", args=[calcom.pk])
    response = admin_client.post(url, {"next": admin_url(company)}, **EN)
    assert response.status_code == 302 and response.url == admin_url(company)
    calcom.refresh_from_db()
    assert calcom.success_count == 1
    # A "next" that leaves the console is not followed: the integration's page instead.
    response = admin_client.post(url, {"next": "https://example.org/"}, **EN)
    assert response.url == admin_url(calcom)


@pytest.mark.parametrize(
    ("headers", "texts", "wrong"),
    [
        (
            DE,
            ("2</strong> Filialen", "1</strong> Telefonnummer<", "1</strong> Mitarbeiter<"),
            "1</strong> Telefonnummern",
        ),
        (
            EN,
            ("2</strong> branches", "1</strong> phone number<", "1</strong> staff member<"),
            "1</strong> phone numbers",
        ),
    ],
)
def test_the_counts_are_singular_for_one(admin_client, praxis, headers, texts, wrong):
    company, _calcom = praxis
    rows = hub(admin_client.get(admin_url(company), **headers).content.decode())
    rows = rows[rows.index('id="company-rows"') :]
    for text in texts:
        assert text in rows, text
    assert wrong not in rows


def test_the_key_panel_names_the_retell_clients_in_german(admin_client, praxis):
    company, _calcom = praxis
    page = admin_client.get(admin_url(company), **DE).content.decode()
    assert "Retell clients" not in page
    assert "jeder Retell-Client · Umgebungsvariable RETELLAI_API_KEY" in page
    english = admin_client.get(admin_url(company), **EN).content.decode()
    assert "every Retell client · environment variable RETELLAI_API_KEY" in english
