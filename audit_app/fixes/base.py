"""What a fix is: it plans exactly what it will write (the preview), then writes that plan.

A fix never decides anything at write time that the preview did not show: `apply_fix` (in
service.py) re-plans under a lock and refuses when the plan's digest differs from the one the
user confirmed, so a stale preview is shown again instead of written.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.functional import Promise

from audit_app.registry import Affected


@dataclass(frozen=True)
class PlannedWrite:
    """One row the fix will create or change; `before`/`after` hold only the columns it writes.

    Secrets appear only as fingerprints. `key` identifies a row to create before it exists
    (e.g. "branch-for-company-7"); `pk` is the existing row's key for an update.
    """

    table: str
    action: str  # "create" or "update"
    description: str
    pk: object = None
    key: str = ""
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    # The company the write is for, where the fix works company by company (Fix.per_company):
    # the preview lets the user leave a company out. Shown, not written: not in the digest.
    company_id: object = None
    company_name: str = ""


# What the digest leaves out: the preview's words and whom a write is for (not what it writes).
_NOT_DIGESTED = ("description", "company_id", "company_name")


@dataclass
class Plan:
    fix: "Fix"
    writes: list[PlannedWrite] = field(default_factory=list)
    # Rows the fix cannot handle safely; they stay on a work list for a person.
    needs_person: list[Affected] = field(default_factory=list)
    # Data the fix's write() needs that the preview does not show (ids, payloads), never secrets.
    context: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """What will be written, and nothing else: the language of the preview does not count."""
        writes = [
            {k: v for k, v in asdict(w).items() if k not in _NOT_DIGESTED} for w in self.writes
        ]
        payload = json.dumps(writes, cls=DjangoJSONEncoder, sort_keys=True, default=str)
        return hashlib.sha256(f"{self.fix.id}:{payload}".encode()).hexdigest()

    @property
    def empty(self) -> bool:
        return not self.writes

    @property
    def companies(self) -> list[tuple[object, str]]:
        """(id, name) of each company the writes are for, in the plan's order."""
        seen = {}
        for write in self.writes:
            if write.company_id is not None:
                seen.setdefault(write.company_id, write.company_name)
        return list(seen.items())

    def only(self, company_ids) -> "Plan":
        """This plan for the companies ``company_ids`` only (writes for no company stay): what
        the preview showed of them, row for row, with its own digest."""
        kept = set(company_ids)
        return Plan(
            fix=self.fix,
            writes=[w for w in self.writes if w.company_id is None or w.company_id in kept],
            needs_person=list(self.needs_person),
            context=self.context,
        )


class Fix:
    """Subclass, set the attributes, implement plan() and write(), decorate with @register_fix."""

    id: str = ""
    check_id: str = ""
    title: Promise | str = ""
    description: Promise | str = ""  # what it writes, in one or two sentences
    # What it does NOT resolve, when its check's finding stays after it is applied (e.g. it
    # creates inactive placeholders): shown on the preview and in the message after applying,
    # so an unchanged count does not read as a failed fix. "" when the fix resolves its rows.
    leaves_open: Promise | str = ""
    # The technical account (the gateway's tables, columns, requests) for engineers: shown
    # collapsed on the preview, like a check's detail; the description stays in plain words.
    detail: Promise | str = ""
    needs_encrypter: bool = False
    # Its writes are each for one company (PlannedWrite.company_id) and write() reads only
    # plan.writes: the preview lets the user leave companies out (Plan.only).
    per_company: bool = False

    def plan(self) -> Plan:
        """Read-only: every write the fix would make now. Never writes."""
        raise NotImplementedError

    def write(self, plan: Plan) -> None:
        """Write exactly `plan.writes` (inside the caller's transaction, lock and operation).

        Only through ``integrations_app.services`` (``create_rows``, ``update_rows``,
        ``save_record``): they record every row in the change store, under the fix's operation,
        and stay bulk (a fixed number of queries, whatever the number of rows).
        """
        raise NotImplementedError


_FIXES: dict[str, Fix] = {}


def register_fix(cls: type[Fix]) -> type[Fix]:
    fix = cls()
    if not fix.id or fix.id in _FIXES:
        raise ValueError(f"audit fix id missing or registered twice: {fix.id!r}")
    _FIXES[fix.id] = fix
    return cls


def all_fixes() -> list[Fix]:
    _load()
    return sorted(_FIXES.values(), key=lambda f: f.id)


def get_fix(fix_id: str) -> Fix | None:
    _load()
    return _FIXES.get(fix_id)


def fix_for_check(check_id: str) -> Fix | None:
    _load()
    return next((f for f in _FIXES.values() if f.check_id == check_id), None)


def _load() -> None:
    import audit_app.fixes  # noqa: F401
