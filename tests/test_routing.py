"""Where does this call go? (issue 14, point 2): every case of semantics.md §3 and §3a, through
the selectors (integrations_app/routing/), the command (`manage.py route`) and the admin page."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from integrations_app import routing
from integrations_app.models import PhoneNumber, RetellAgent
from tests import audit_rows as r

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
pytestmark = pytest.mark.django_db

E164 = "+493023125101"
BARE = "493023125101"
NATIONAL = "030 23125101"
OTHER = "+493023125199"
GONE = datetime(2024, 1, 1, tzinfo=UTC)
PAGE = "admin:integrations_app_phonenumber_route"
CHANGELIST = "admin:integrations_app_phonenumber_changelist"
FORMS = ("+49 30 23125101", NATIONAL, "030/231 251 01", "0049 30 23125101", "(030) 23125-101",
         "+49 (0)30 23125101", BARE, E164)  # fmt: skip


@pytest.fixture
def world(settings):
    """The default company (RETELL_DEFAULT_COMPANY_ID), a praxis with two branches, a bakery."""
    default = r.company("Standardfirma")
    settings.RETELL_DEFAULT_COMPANY_ID = default.pk
    praxis = r.company("Praxis Dr. Lindenberg")
    baeckerei = r.company("Bäckerei Müller")
    return {
        "default": default,
        "praxis": praxis,
        "mitte": r.branch(praxis, "Mitte"),
        "pankow": r.branch(praxis, "Pankow"),
        "baeckerei": baeckerei,
        "laden": r.branch(baeckerei, "Laden"),
    }


def number(of, raw, at, normalized="same", phone_number="same", **fields):
    """A phone_numbers row with each routing column as given ("same": the written number)."""
    return PhoneNumber.objects.create(
        company=of,
        branch=at,
        number=raw,
        number_normalized=raw if normalized == "same" else normalized,
        phone_number=raw if phone_number == "same" else phone_number,
        **fields,
    )


def agent(company, agent_id="agent_praxis_1", **fields):
    return RetellAgent.objects.create(agent_id=agent_id, name=agent_id, company=company, **fields)


def paths(route) -> dict:
    return {p.key: p for p in route.paths}


def landing(result) -> tuple:
    return result.outcome, result.company_id, result.branch_id


def run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("route", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


# --- §3: call_inbound ---------------------------------------------------------------------


@pytest.mark.parametrize("written", FORMS)
def test_every_written_form_finds_the_row_on_every_path(world, written):
    row = number(world["praxis"], E164, world["mitte"])
    route = routing.explain(written)
    assert route.e164 == E164 and route.region == "DE"
    found = paths(route)
    assert landing(found["call_inbound"]) == ("routed", world["praxis"].pk, world["mitte"].pk)
    assert landing(found["call_started"]) == ("routed", world["praxis"].pk, world["mitte"].pk)
    assert landing(found["call_ended"]) == ("routed", world["praxis"].pk, None)
    assert not found["call_ended"].sets_branch
    assert route.agree and not route.disagreeing
    steps = found["call_inbound"].steps
    assert [row.id for row in steps[1].rows] == [row.pk]  # number_normalized = E.164
    assert steps[2].rows == []  # without +
    assert [row.id for row in steps[3].rows] == [row.pk]  # number = E.164


def test_another_region_is_named(world):
    route = routing.explain("01 5134567")  # not valid in DE: Vienna
    assert (route.e164, route.region) == ("+4315134567", "AT")


def test_match_via_number_normalized_only_is_found_by_call_inbound_alone(world):
    """`number` not E.164: call_inbound finds it, the agent-first paths (plain equality with
    `number`/`phone_number`) do not and land on company 1 (§3a)."""
    row = number(world["praxis"], NATIONAL, world["mitte"], normalized=E164, phone_number=None)
    with translation.override("de"):  # the verdict is said in the language active here
        route = routing.explain(E164)
    found = paths(route)
    assert [x.id for x in found["call_inbound"].steps[1].rows] == [row.pk]
    assert landing(found["call_inbound"]) == ("routed", world["praxis"].pk, world["mitte"].pk)
    for key in ("call_started", "call_ended"):
        assert found[key].outcome == "default_company"
        assert found[key].company_id == world["default"].pk
        assert found[key].steps[-1].rows[0].company_name == "Standardfirma"
    assert not route.agree
    assert route.disagreeing == {"call_started", "call_ended"}
    assert "landet bei der Standardfirma Standardfirma (RETELL_DEFAULT_COMPANY_ID)" in str(
        route.verdict
    )


def test_match_via_number_normalized_without_plus(world):
    row = number(world["praxis"], NATIONAL, world["mitte"], normalized=BARE, phone_number=None)
    found = paths(routing.explain(NATIONAL))
    steps = found["call_inbound"].steps
    assert steps[1].rows == [] and [x.id for x in steps[2].rows] == [row.pk]
    assert landing(found["call_inbound"]) == ("routed", world["praxis"].pk, world["mitte"].pk)


def test_match_via_number_only(world):
    row = number(world["praxis"], E164, world["mitte"], normalized=None)
    route = routing.explain(NATIONAL)
    found = paths(route)
    steps = found["call_inbound"].steps
    assert steps[1].rows == steps[2].rows == [] and [x.id for x in steps[3].rows] == [row.pk]
    assert landing(found["call_inbound"]) == ("routed", world["praxis"].pk, world["mitte"].pk)
    assert landing(found["call_started"]) == ("routed", world["praxis"].pk, world["mitte"].pk)
    assert route.agree


def test_no_row_rejects_on_call_inbound_and_lands_on_company_1_elsewhere(world):
    number(world["praxis"], OTHER, world["mitte"])
    route = routing.explain(E164)
    found = paths(route)
    assert found["call_inbound"].outcome == "rejected"
    assert found["call_inbound"].company_id is None
    assert landing(found["call_started"]) == ("default_company", world["default"].pk, None)
    assert landing(found["call_ended"]) == ("default_company", world["default"].pk, None)
    assert not route.agree
    assert "rejected" in str(route.verdict) or "abgewiesen" in str(route.verdict)


def test_company_1_without_a_row_is_still_named(world, settings):
    settings.RETELL_DEFAULT_COMPANY_ID = 999_999
    found = paths(routing.explain(E164))
    assert landing(found["call_started"]) == ("default_company", 999_999, None)


def test_two_rows_make_routing_undefined(world):
    a = number(world["praxis"], NATIONAL, world["mitte"], normalized=E164, phone_number=None)
    b = number(world["baeckerei"], E164, world["laden"], normalized=None, phone_number=None)
    route = routing.explain(E164)
    found = paths(route)
    assert found["call_inbound"].outcome == "undefined"
    matched = {x.id for step in found["call_inbound"].steps for x in step.rows}
    assert matched == {a.pk, b.pk}
    # the agent-first paths see only `b` (number = E.164): a definite, different answer
    assert landing(found["call_started"]) == ("routed", world["baeckerei"].pk, world["laden"].pk)
    assert not route.agree and "call_inbound" in route.disagreeing


def test_two_rows_on_the_agent_first_paths_are_undefined_too(world):
    number(world["praxis"], E164, world["mitte"], phone_number=None)
    number(world["baeckerei"], NATIONAL, world["laden"], normalized=None, phone_number=E164)
    found = paths(routing.explain(E164))
    assert found["call_inbound"].outcome == "routed"  # only the first: number_normalized/number
    assert found["call_started"].outcome == found["call_ended"].outcome == "undefined"


def test_a_number_without_branch_breaks_booking(world):
    number(world["praxis"], E164, None)
    route = routing.explain(E164)
    found = paths(route)
    assert landing(found["call_inbound"]) == ("no_branch", world["praxis"].pk, None)
    assert not route.agree and "call_inbound" in route.disagreeing


def test_inactive_and_marked_deleted_numbers_still_route(world, english):
    number(world["praxis"], E164, world["mitte"], is_active=False, deleted_at=GONE)
    route = routing.explain(E164)
    found = paths(route)
    assert landing(found["call_inbound"]) == ("routed", world["praxis"].pk, world["mitte"].pk)
    assert route.agree
    notes = " ".join(str(n) for n in found["call_inbound"].notes)
    assert "inactive" in notes and "marked deleted" in notes


# --- §3a: the agent first -------------------------------------------------------------------


def test_a_registered_agent_decides_and_leaves_the_branch_empty(world):
    number(world["praxis"], E164, world["mitte"])
    agent(world["praxis"])
    route = routing.explain(E164, "agent_praxis_1")
    found = paths(route)
    for key in ("call_started", "call_ended"):
        assert landing(found[key]) == ("routed", world["praxis"].pk, None)
        assert not found[key].sets_branch
        assert found[key].steps[0].rows[0].label == "agent_praxis_1"
        assert found[key].steps[-1].rows == []  # the numbers are not consulted
    assert route.agree  # the branch the agent leaves empty is no disagreement


def test_an_agent_of_another_company_sends_the_call_elsewhere(world):
    number(world["praxis"], E164, world["mitte"])
    agent(world["baeckerei"], "agent_baecker")
    route = routing.explain(E164, "agent_baecker")
    found = paths(route)
    assert found["call_inbound"].company_id == world["praxis"].pk
    assert found["call_started"].company_id == world["baeckerei"].pk
    assert not route.agree
    assert route.disagreeing == {"call_started", "call_ended"}


def test_an_unregistered_agent_falls_back_to_number_or_phone_number(world):
    """`phone_number` = E.164 alone: the agent-first paths find it, call_inbound does not."""
    agent(world["baeckerei"], "agent_other")
    number(world["praxis"], NATIONAL, world["mitte"], normalized=None, phone_number=E164)
    route = routing.explain(E164, "agent_unknown")
    found = paths(route)
    assert found["call_started"].steps[0].rows == []
    assert landing(found["call_started"]) == ("routed", world["praxis"].pk, world["mitte"].pk)
    assert landing(found["call_ended"]) == ("routed", world["praxis"].pk, None)
    assert found["call_inbound"].outcome == "rejected"
    assert not route.agree


def test_an_unregistered_agent_with_an_e164_number_agrees(world):
    number(world["praxis"], E164, world["mitte"])
    assert routing.explain(E164, "agent_unknown").agree


def test_paths_disagree_on_the_branch(world):
    """call_inbound via number_normalized finds one row; `number` of another row matches on
    the agent-first paths only... both rows are one company, different branches."""
    number(world["praxis"], "+493023125102", world["mitte"], normalized=E164, phone_number=None)
    number(world["praxis"], NATIONAL, world["pankow"], normalized=None, phone_number=E164)
    route = routing.explain(E164)
    found = paths(route)
    assert found["call_inbound"].branch_id == world["mitte"].pk
    assert found["call_started"].branch_id == world["pankow"].pk
    assert found["call_started"].company_id == found["call_inbound"].company_id
    assert not route.agree and route.disagreeing == {"call_started"}


# --- lands, but nothing works there: not definite ---------------------------------------------


def test_a_number_of_a_soft_deleted_company_is_not_definite(world, english):
    gone = r.company("Alte Praxis", deleted_at=GONE)
    number(gone, E164, r.branch(gone, "Mitte"))
    route = routing.explain(E164)
    found = paths(route)
    assert landing(found["call_inbound"]) == ("routed", gone.pk, found["call_inbound"].branch_id)
    assert all(p.problems == ["company_deleted"] for p in route.paths)
    assert not route.agree and route.disagreeing == set(routing.PATHS)
    assert str(route.verdict) == (
        "The call lands on Alte Praxis, a company that is deleted (soft delete): "
        "nothing works on it."
    )


def test_an_agent_registered_to_a_deleted_company_is_not_definite(world, english):
    number(world["praxis"], E164, world["mitte"])
    gone = r.company("Alte Praxis", deleted_at=GONE)
    agent(gone, "agent_alt")
    route = routing.explain(E164, "agent_alt")
    found = paths(route)
    assert found["call_inbound"].definite
    for key in ("call_started", "call_ended"):
        assert landing(found[key]) == ("routed", gone.pk, None)
        assert found[key].problems == ["company_deleted"] and not found[key].definite
    assert not route.agree and route.disagreeing == {"call_started", "call_ended"}
    assert "a company that is deleted (soft delete)" in str(route.verdict)


def test_an_agent_of_the_same_deleted_company_still_is_not_definite(world, english):
    gone = r.company("Alte Praxis", deleted_at=GONE)
    number(gone, E164, r.branch(gone, "Mitte"))
    agent(gone, "agent_alt")
    route = routing.explain(E164, "agent_alt")
    assert not route.agree and "deleted (soft delete)" in str(route.verdict)


def orphan_agent():
    """An agent whose company row is gone: the reference schema's foreign key forbids it, but a
    drifted production database (or one loaded with checks off) holds such rows."""
    from django.db import connection

    mysql = connection.vendor == "mysql"
    if mysql:
        with connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
    try:
        RetellAgent.objects.create(agent_id="agent_orphan", name="x", company_id=999_999)
    finally:
        if mysql:
            with connection.cursor() as cursor:
                cursor.execute("SET FOREIGN_KEY_CHECKS = 1")


def test_an_agent_of_a_company_that_does_not_exist_is_not_definite(world, english):
    number(world["praxis"], E164, world["mitte"])
    orphan_agent()
    route = routing.explain(E164, "agent_orphan")
    found = paths(route)
    for key in ("call_started", "call_ended"):
        assert landing(found[key]) == ("routed", 999_999, None)  # the gateway files it there
        assert found[key].problems == ["company_missing"]
        assert found[key].steps[0].rows[0].label == "agent_orphan"
    assert not route.agree and route.disagreeing == {"call_started", "call_ended"}
    assert str(route.verdict) == (
        "The call lands on company 999999, which does not exist: nothing works on it."
    )
    assert "the company does not exist" in " ".join(str(n) for n in found["call_ended"].notes)


def test_a_deleted_branch_is_not_definite(world, english):
    closed = r.branch(world["praxis"], "Geschlossen", deleted_at=GONE)
    number(world["praxis"], E164, closed)
    route = routing.explain(E164)
    found = paths(route)
    assert found["call_inbound"].problems == found["call_started"].problems == ["branch_deleted"]
    assert found["call_ended"].problems == [] and found["call_ended"].definite  # sets no branch
    assert not route.agree and route.disagreeing == {"call_inbound", "call_started"}
    assert str(route.verdict) == "The call lands on branch Geschlossen, which is deleted."


def test_a_branch_of_another_company_is_not_definite(world, english):
    number(world["praxis"], E164, world["laden"])
    route = routing.explain(E164)
    found = paths(route)
    assert found["call_inbound"].problems == ["branch_other_company"]
    assert found["call_inbound"].company_id == world["praxis"].pk
    assert found["call_inbound"].branch_id == world["laden"].pk
    assert not route.agree and "call_inbound" in route.disagreeing
    assert str(route.verdict) == (
        "The call lands on branch Laden, which belongs to another company."
    )


def test_the_agent_query_stays_one_query_without_a_company(world, django_assert_num_queries):
    number(world["praxis"], E164, world["mitte"])
    orphan_agent()
    with django_assert_num_queries(2):
        routing.explain(E164, "agent_orphan")


def test_bad_input_is_refused():
    with pytest.raises(routing.RouteInputError):
        routing.explain("12")
    with pytest.raises(routing.RouteInputError):
        routing.explain("")
    with pytest.raises(routing.RouteInputError):
        routing.explain(E164, "agent with spaces")


def test_queries_do_not_grow_with_rows(world, django_assert_num_queries, settings):
    number(world["praxis"], NATIONAL, world["mitte"], normalized=E164, phone_number=None)
    number(world["baeckerei"], E164, world["laden"], normalized=None, phone_number=None)
    agent(world["baeckerei"], "agent_baecker")
    # numbers, agent; the default company only when a path falls back to it
    with django_assert_num_queries(2):
        routing.explain(E164, "agent_baecker")
    for i in range(20):
        number(world["praxis"], f"+49302312{5200 + i}", world["mitte"])
        number(world["praxis"], f"030 2312{5300 + i}", world["pankow"], normalized=E164)
    with django_assert_num_queries(2):
        routing.explain(E164, "agent_baecker")
    with django_assert_num_queries(3):
        routing.explain(OTHER, "agent_unknown")


# --- the command --------------------------------------------------------------------------


def test_command_exits_0_when_the_paths_agree(world, english):
    number(world["praxis"], E164, world["mitte"])
    code, out = run(NATIONAL)
    assert code == 0
    assert "+493023125101 (region DE)" in out and "All paths agree." in out
    assert "Praxis Dr. Lindenberg" in out and "Mitte" in out


def test_command_exits_1_when_they_disagree(world, english):
    number(world["praxis"], NATIONAL, world["mitte"], normalized=E164, phone_number=None)
    code, out = run(E164)
    assert code == 1
    assert "lands on the default company" in out and "Standardfirma" in out


def test_command_exits_1_when_undefined(world):
    number(world["praxis"], NATIONAL, world["mitte"], normalized=E164, phone_number=None)
    number(world["baeckerei"], E164, world["laden"], normalized=None, phone_number=None)
    assert run(E164)[0] == 1


def test_command_exits_1_on_a_deleted_company_or_branch(world, english):
    gone = r.company("Alte Praxis", deleted_at=GONE)
    agent(gone, "agent_alt")
    number(world["praxis"], E164, world["mitte"])
    code, out = run(E164, "--agent", "agent_alt")
    assert code == 1
    assert "a company that is deleted (soft delete)" in out and "All paths agree." not in out
    code, out = run(E164, "--agent", "agent_unknown")
    assert code == 0
    closed = r.branch(world["praxis"], "Geschlossen", deleted_at=GONE)
    PhoneNumber.objects.filter(number=E164).update(branch=closed)
    code, out = run(E164)
    assert code == 1 and "The call lands on branch Geschlossen, which is deleted." in out
    assert json.loads(run(E164, "--format", "json")[1])["paths"][0]["problems"] == [
        "branch_deleted"
    ]


def test_command_json(world):
    number(world["praxis"], E164, None)
    agent(world["praxis"])
    code, out = run(E164, "--agent", "agent_praxis_1", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data["e164"] == E164 and data["agent_id"] == "agent_praxis_1" and not data["agree"]
    by_path = {p["path"]: p for p in data["paths"]}
    assert by_path["call_inbound"]["outcome"] == "no_branch"
    assert not by_path["call_inbound"]["agrees"]
    assert by_path["call_started"]["outcome"] == "routed"
    assert by_path["call_started"]["steps"][0]["rows"][0]["label"] == "agent_praxis_1"


def test_command_exits_2_on_a_number_that_does_not_parse(english):
    with pytest.raises(CommandError) as error:
        call_command("route", "12")
    assert error.value.returncode == 2
    assert "“12” is not a phone number" in str(error.value)
    with pytest.raises(CommandError) as error:
        call_command("route", E164, "--agent", "agent x")
    assert error.value.returncode == 2


def test_command_speaks_german_by_default(world):
    number(world["praxis"], E164, world["mitte"])
    code, out = run(E164)
    assert code == 0  # German until locale/ has the texts: the command runs either way
    assert "+493023125101" in out


# --- the page -----------------------------------------------------------------------------


def test_page_shows_each_path_and_disagreement_in_red(admin_client, world, english):
    number(world["praxis"], NATIONAL, world["mitte"], normalized=E164, phone_number=None)
    number(world["baeckerei"], E164, world["laden"], normalized=None, phone_number=None)
    page = admin_client.get(reverse(PAGE), {"number": "030 231 251 01", "agent": ""}, **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="path-call_inbound"' in html and 'id="path-call_ended"' in html
    assert "askpro-route-path askpro-route-disagree" in html
    assert "askpro-route-verdict askpro-route-disagree" in html
    assert "undefined: several rows match" in html
    assert "Praxis Dr. Lindenberg" in html and "Bäckerei Müller" in html
    assert ' style="' not in html.split('id="content-main"')[1]


def test_page_agreeing_is_not_red(admin_client, world, english):
    number(world["praxis"], E164, world["mitte"])
    registered = agent(world["praxis"])
    html = admin_client.get(
        reverse(PAGE), {"number": E164, "agent": "agent_praxis_1"}, **EN
    ).content
    html = html.decode()
    assert "askpro-route-disagree" not in html.split('id="content-main"')[1]
    assert "All paths agree." in html
    assert reverse("admin:integrations_app_retellagent_change", args=[registered.pk]) in html


def test_page_shows_a_deleted_company_in_red(admin_client, world):
    gone = r.company("Alte Praxis", deleted_at=GONE)
    number(world["praxis"], E164, world["mitte"])
    agent(gone, "agent_alt")
    html = admin_client.get(reverse(PAGE), {"number": E164, "agent": "agent_alt"}, **EN)
    html = html.content.decode()
    assert "askpro-route-verdict askpro-route-disagree" in html
    assert "All paths agree." not in html
    assert "lands on Alte Praxis, a company that is deleted (soft delete)" in html
    assert "the company is deleted (soft delete)" in html


def test_page_refuses_bad_input_clearly(admin_client, english):
    html = admin_client.get(reverse(PAGE), {"number": "abc"}, **EN).content.decode()
    assert "errornote" in html and "“abc” is not a phone number" in html
    html = admin_client.get(reverse(PAGE), {"number": E164, "agent": "a b"}, **EN).content.decode()
    assert "contains spaces" in html


def test_page_empty_form_and_link_from_the_number_list(admin_client, english):
    page = admin_client.get(reverse(PAGE), **EN)
    assert page.status_code == 200 and "Show the route" in page.content.decode()
    assert reverse(PAGE) in admin_client.get(reverse(CHANGELIST)).content.decode()


def test_page_needs_view_permission_on_phone_numbers(client, django_user_model, world):
    user = django_user_model.objects.create_user("support", password="x-test-pass-1", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(PAGE), {"number": E164}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_phonenumber"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(reverse(PAGE), {"number": E164}).status_code == 200


def test_page_in_german(admin_client, world):
    number(world["praxis"], E164, world["mitte"])
    html = admin_client.get(reverse(PAGE), {"number": E164}).content.decode()
    assert '<html lang="de"' in html and 'id="path-call_inbound"' in html


def test_page_query_count_is_fixed(admin_client, world, django_assert_max_num_queries):
    def page():
        with django_assert_max_num_queries(99) as captured:
            admin_client.get(reverse(PAGE), {"number": E164, "agent": "agent_praxis_1"})
        return len(captured.captured_queries)

    number(world["praxis"], NATIONAL, world["mitte"], normalized=E164, phone_number=None)
    agent(world["praxis"])
    first = page()
    for i in range(15):
        number(world["praxis"], f"0302312{5400 + i}", world["pankow"], normalized=E164)
        agent(world["baeckerei"], f"agent_b{i}")
    assert page() == first
    assert first == PAGE_QUERIES


PAGE_QUERIES = 4  # session, user, numbers, agent (the default company only when needed)


def test_page_names_companies_by_their_names_not_their_ids(admin_client, world):
    """The walkthrough read „Firma 2 Salon Haarmonie“ and „… oder bei Firma 1 landet“."""
    number(world["praxis"], E164, world["mitte"])
    html = admin_client.get(reverse(PAGE), {"number": E164}).content.decode()
    content = html.split('id="content-main"', 1)[1]
    praxis = world["praxis"]
    assert f"Firma {praxis.pk} {praxis.name}" not in content
    assert f"Firma {praxis.pk}" not in content
    assert praxis.name in content
    assert "Firma 1" not in content
    assert "bei der Standardfirma (RETELL_DEFAULT_COMPANY_ID) landet" in content
