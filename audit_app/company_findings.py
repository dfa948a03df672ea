"""The open audit findings that concern one company, for its admin page.

Read from the latest audit snapshot (audit_app.snapshots), never by running the audit: the
whole audit takes seconds at the gateway's size (bench/RESULTS.md) and runs in a worker, a
command or the dashboard's button, while a company page must open at once. Its cost is fixed:
one query for the latest snapshot's id (its findings are read and indexed once per process and
snapshot), then one query (a UNION ALL of one narrow SELECT per gateway table that has findings
in it: which of the affected rows are this company's, with a label), whatever the number of
companies, of tables with findings or of this company's rows. The findings are as old as
the snapshot; the page says when it was taken and links to the dashboard for a newer one.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import CharField, Value
from django.db.models.functions import Cast

from audit_app.dashboard import admin_change_url
from audit_app.models import AuditSnapshot
from audit_app.registry import Check, get_check
from integrations_app.models import GATEWAY_MODELS, Company

# The affected rows listed per check (the check's page lists them all).
ROWS_SHOWN = 5
# Up to this many affected keys of a table are looked up by key (one IN list); with more, the
# company's own rows of that table are read and matched here (still one query).
KEYS_LOOKED_UP = 500
_LABEL_FIELDS = ("number", "name", "key")


@dataclass
class FoundRow:
    label: str
    url: str


@dataclass
class CompanyFinding:
    check: Check
    about_company: bool  # the company's own row is affected
    count: int  # the company's other affected rows (numbers, branches, ...)
    rows: list[FoundRow] = field(default_factory=list)  # the first ROWS_SHOWN of them

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass
class CompanyFindings:
    taken_at: datetime
    findings: list[CompanyFinding]


def _company_tables() -> dict:
    """db_table -> model of the gateway tables whose rows belong to a company."""
    tables = {}
    for model in GATEWAY_MODELS:
        try:
            model._meta.get_field("company")
        except FieldDoesNotExist:
            continue
        tables[model._meta.db_table] = model
    return tables


def _label_field(model) -> str:
    names = {f.name for f in model._meta.concrete_fields}
    return next((name for name in _LABEL_FIELDS if name in names), "pk")


def _own_rows_query(table: str, model, company_id, keys: set[str]):
    """(table, key, label) of the affected rows (``keys``) of ``model`` that may be this
    company's, as text columns: one SELECT of the UNION ALL that _own_rows sends."""
    label = _label_field(model)
    rows = model._base_manager.filter(company_id=company_id).order_by()
    if len(keys) <= KEYS_LOOKED_UP:
        typed = []
        for key in keys:
            try:
                typed.append(model._meta.pk.to_python(key))
            except ValidationError:
                continue
        if not typed:
            return None
        rows = rows.filter(pk__in=typed)
    text = CharField(max_length=255)
    return rows.values_list(Value(table, output_field=text), Cast("pk", text), Cast(label, text))


def _own_rows(tables: dict, company_id, keys: dict) -> dict[str, dict[str, str]]:
    """{table: {key: label}} of the affected rows that are this company's, in one query
    (UNION ALL over the tables with findings) whatever the number of such tables."""
    queries = [
        query
        for table, table_keys in keys.items()
        if table in tables
        and (query := _own_rows_query(table, tables[table], company_id, table_keys)) is not None
    ]
    own = defaultdict(dict)
    if not queries:
        return own
    union = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
    for table, pk, text in union:
        if pk in keys.get(table, ()):
            own[table][pk] = str(text if text not in (None, "") else pk)
    return own


@lru_cache(maxsize=1)
def _snapshot_index(snapshot_id: int, taken_at: datetime) -> tuple[dict, dict]:
    """(findings, {table: affected keys}) of one snapshot, parsed once per process.

    A snapshot never changes once taken, and at the gateway's size its findings are ~2 MB of
    JSON that cost ~150 ms to load and index (bench/RESULTS.md): every company page after the
    first reads only the latest snapshot's id, and this parse again only when a newer one is
    taken."""
    findings = AuditSnapshot.objects.filter(pk=snapshot_id).values_list("findings", flat=True)
    findings = findings.first()
    findings = findings if isinstance(findings, dict) else {}
    keys = defaultdict(set)
    for found in findings.values():
        for key in found if isinstance(found, list) else ():
            table, _sep, pk = str(key).partition(":")
            if pk not in ("", "None"):  # a finding about no row (e.g. a key that is NULL)
                keys[table].add(pk)
    return findings, dict(keys)


def for_company(company: Company) -> CompanyFindings | None:
    """This company's findings in the latest snapshot, worst first; None without a snapshot."""
    latest = AuditSnapshot.objects.order_by("-taken_at", "-id").values_list("id", "taken_at")
    latest = latest.first()
    if latest is None:
        return None
    snapshot_id, taken_at = latest
    # taken_at in the key too: a test database may give a rolled-back id to a new snapshot.
    findings, keys = _snapshot_index(snapshot_id, taken_at)
    tables = _company_tables()
    own = _own_rows(tables, company.pk, keys)
    mine = str(company.pk)
    own["companies"] = {mine: company.name} if mine in keys.get("companies", ()) else {}
    result = []
    for check_id, found in findings.items():
        check = get_check(check_id)
        if check is None or not isinstance(found, list):
            continue
        mine = []
        for key in found:
            table, _sep, pk = str(key).partition(":")
            if pk in own.get(table, {}):
                mine.append((table, pk))
        if not mine:
            continue
        others = [(t, pk) for t, pk in mine if t != "companies"]
        rows = [
            FoundRow(
                own[t][pk],
                admin_change_url(("integrations_app", tables[t]._meta.model_name), pk),
            )
            for t, pk in others[:ROWS_SHOWN]
        ]
        result.append(CompanyFinding(check, len(others) < len(mine), len(others), rows))
    result.sort(key=lambda f: (-f.check.severity.rank, f.check.id))
    return CompanyFindings(taken_at, result)
