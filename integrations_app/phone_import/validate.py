"""Every row checked in one pass against the database as loaded once (lookups.py).

Each row ends as new, update, unchanged or error, with every reason it cannot be imported:
the row, the column and the reason, in the user's language.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

import phonenumbers
from django.utils.translation import gettext as _

from integrations_app.phone_import import lookups
from integrations_app.phone_import.columns import BY_KEY, parse_boolean, parse_type
from integrations_app.phone_import.errors import RowError
from integrations_app.phone_import.reader import Table

NEW, UPDATE, UNCHANGED, ERROR = "new", "update", "unchanged", "error"
STATUSES = (NEW, UPDATE, UNCHANGED, ERROR)
DESCRIPTION_MAX = 255


@dataclass
class RowResult:
    row: int
    cells: list[str]
    status: str = ERROR
    errors: list[RowError] = field(default_factory=list)
    pk: str | None = None  # the existing row an update changes
    before: dict | None = None
    after: dict | None = None
    primary_given: bool = False  # the file itself sets primary = yes

    @property
    def changed(self) -> list[str]:
        if self.before is None or self.after is None:
            return []
        return [c for c in lookups.WRITTEN if self.before.get(c) != self.after.get(c)]


@dataclass
class ImportPlan:
    table: Table
    region: str
    rows: list[RowResult]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(r.status for r in self.rows)
        return {status: counted.get(status, 0) for status in STATUSES}

    @property
    def errors(self) -> list[RowError]:
        return [error for r in self.rows for error in r.errors]

    @property
    def has_errors(self) -> bool:
        return any(r.errors for r in self.rows)

    @property
    def digest(self) -> str:
        """What the plan would do, as a checksum: a preview confirmed later must still match."""
        state = [self.region] + [[r.row, r.status, r.pk, r.before, r.after] for r in self.rows]
        encoded = json.dumps(state, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


def validate(table: Table, *, region: str = "DE", found: lookups.Lookups | None = None):
    """The plan for ``table``: every row with its status and errors (three queries in all)."""
    found = found or lookups.load()
    region = region.upper()
    checker = _RowChecker(table, region, found)
    results = [checker.check(number, cells) for number, cells in table.rows]
    checker.check_file(results)
    for result in results:
        if result.errors:
            result.status, result.after = ERROR, None
        elif result.before is None:
            result.status = NEW
        else:
            result.status = UPDATE if result.changed else UNCHANGED
    return ImportPlan(table=table, region=region, rows=results)


class _RowChecker:
    def __init__(self, table: Table, region: str, found: lookups.Lookups):
        self.table, self.region, self.found = table, region, found

    def column(self, key: str) -> str:
        return self.table.header_of(key) or str(BY_KEY[key].label)

    def error(self, result: RowResult, key: str, message: str) -> None:
        result.errors.append(RowError(result.row, self.column(key), message))

    def check(self, number: int, cells: list[str]) -> RowResult:
        result = RowResult(row=number, cells=cells)
        cell = lambda key: self.table.cell(cells, key)  # noqa: E731
        company = self.company(result, cell("company"))
        e164, country_code = self.number(result, cell("number"))
        kind = self.choice(result, "type", cell("type"), parse_type, _("use direct or hotline"))
        primary = self.choice(result, "primary", cell("primary"), parse_boolean, _yes_no())
        active = self.choice(result, "active", cell("active"), parse_boolean, _yes_no())
        description = cell("description") or None
        if description and len(description) > DESCRIPTION_MAX:
            self.error(
                result,
                "description",
                _("The description is longer than %(max)d characters.") % {"max": DESCRIPTION_MAX},
            )
        result.primary_given = primary is True
        existing = self.existing(result, e164, company) if e164 else None
        branch_id = self.branch(result, cell("branch"), company, existing) if company else None
        if company is None or e164 is None:
            return result
        result.before = None if existing is None else {c: existing[c] for c in lookups.WRITTEN}
        result.pk = None if existing is None else existing["pk"]
        base = result.before or {
            "type": "direct",
            "is_primary": False,
            "is_active": True,
            "description": None,
        }
        result.after = {
            "company_id": company.id,
            "branch_id": branch_id,
            "number": e164,
            "number_normalized": e164,
            "phone_number": e164,
            "country_code": country_code,
            "type": kind if kind is not None else base["type"],
            "is_primary": primary if primary is not None else bool(base["is_primary"]),
            "is_active": active if active is not None else bool(base["is_active"]),
            "description": description if description is not None else base["description"],
        }
        if result.before is not None:
            for flag in ("is_primary", "is_active"):
                result.before[flag] = bool(result.before[flag])
        return result

    def company(self, result: RowResult, text: str):
        if not text:
            self.error(result, "company", _("The company is missing."))
            return None
        company = self.found.companies_by_id.get(int(text)) if text.isdigit() else None
        candidates = [company] if company else self.found.companies_by_name.get(text, [])
        live = [c for c in candidates if not c.deleted]
        if len(live) == 1:
            return live[0]
        if len(live) > 1:
            self.error(
                result,
                "company",
                _("Several companies are called “%(name)s”: use the company's id.")
                % {"name": text},
            )
        elif candidates:
            self.error(result, "company", _("The company “%(name)s” is deleted.") % {"name": text})
        else:
            self.error(result, "company", _("There is no company “%(name)s”.") % {"name": text})
        return None

    def number(self, result: RowResult, text: str) -> tuple[str | None, str | None]:
        if not text:
            self.error(result, "number", _("The number is missing."))
            return None, None
        try:
            parsed = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            self.error(
                result,
                "number",
                _("“%(number)s” is not a valid phone number (region %(region)s).")
                % {"number": text, "region": self.region},
            )
            return None, None
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return e164, f"+{parsed.country_code}"

    def choice(self, result: RowResult, key: str, text: str, parse, hint: str):
        if not text:
            return None
        value = parse(text)
        if value is None:
            self.error(
                result,
                key,
                _("“%(value)s” is not allowed here: %(hint)s.") % {"value": text, "hint": hint},
            )
        return value

    def existing(self, result: RowResult, e164: str, company) -> dict | None:
        rows = self.found.numbers.get(e164, [])
        if len(rows) > 1:
            self.error(
                result,
                "number",
                _(
                    "%(number)s is in the database %(count)d times already: the gateway routes "
                    "its calls to whichever it finds first. Correct those rows first."
                )
                % {"number": e164, "count": len(rows)},
            )
            return None
        if not rows:
            return None
        row = rows[0]
        if company is not None and row["company_id"] not in (None, company.id):
            owner = self.found.companies_by_id.get(row["company_id"])
            self.error(
                result,
                "number",
                _("%(number)s already belongs to another company (%(company)s).")
                % {"number": e164, "company": owner.name if owner else row["company_id"]},
            )
            return None
        return row

    def branch(self, result: RowResult, text: str, company, existing: dict | None):
        found = self.found
        if text:
            branch = found.branches_by_id.get(text.lower())
            if branch is None:
                own = found.branches_of.get(company.id, ())
                # the exact name, else the name in any case ("pankow" for "Pankow")
                named = [b for b in own if b.name == text] or [
                    b for b in own if b.name.casefold() == text.casefold()
                ]
                live = [b for b in named if not b.deleted]
                if len(live) > 1:
                    self.error(
                        result,
                        "branch",
                        _("%(company)s has several branches called “%(name)s”: use the id.")
                        % {"company": company.name, "name": text},
                    )
                    return None
                branch = live[0] if live else (named[0] if named else None)
            if branch is None:
                self.error(
                    result,
                    "branch",
                    _("%(company)s has no branch “%(name)s”.")
                    % {"company": company.name, "name": text},
                )
                return None
            if branch.company_id != company.id:
                self.error(
                    result,
                    "branch",
                    _("The branch “%(name)s” belongs to another company, not to %(company)s.")
                    % {"name": text, "company": company.name},
                )
                return None
            if branch.deleted:
                self.error(
                    result, "branch", _("The branch “%(name)s” is deleted.") % {"name": text}
                )
                return None
            return branch.id
        live = found.live_branches(company.id)
        if existing is not None and existing["branch_id"] in {b.id for b in live}:
            return existing["branch_id"]
        if len(live) == 1:
            return live[0].id
        if not live:
            self.error(
                result,
                "branch",
                _("%(company)s has no branch: create one first, calls need a branch to book.")
                % {"company": company.name},
            )
        else:
            self.error(
                result,
                "branch",
                _("%(company)s has %(count)d branches: name the branch of this number.")
                % {"company": company.name, "count": len(live)},
            )
        return None

    def check_file(self, results: list[RowResult]) -> None:
        """What only the whole file shows: a number twice, two primary numbers of one company."""
        rows_of: dict[str, list[int]] = {}
        for result in results:
            if result.after:
                rows_of.setdefault(result.after["number"], []).append(result.row)
        for result in results:
            if result.after and len(rows_of[result.after["number"]]) > 1:
                others = [n for n in rows_of[result.after["number"]] if n != result.row]
                self.error(
                    result,
                    "number",
                    _("%(number)s is in the file more than once (also row %(rows)s).")
                    % {"number": result.after["number"], "rows": ", ".join(map(str, others))},
                )
        primaries = {c: set(pks) for c, pks in self.found.primaries.items()}
        given = {}
        for result in results:
            if result.after is None:
                continue
            company_id = result.after["company_id"]
            key = result.pk or f"row:{result.row}"
            if result.after["is_primary"]:
                primaries.setdefault(company_id, set()).add(key)
            else:
                primaries.get(company_id, set()).discard(key)
            if result.primary_given:
                given.setdefault(company_id, []).append(result)
        for company_id, rows in given.items():
            if len(primaries.get(company_id, ())) <= 1:
                continue
            company = self.found.companies_by_id[company_id]
            for result in rows:
                self.error(
                    result,
                    "primary",
                    _(
                        "%(company)s would have %(count)d primary numbers after the import: "
                        "a company has at most one (set the others to primary = no)."
                    )
                    % {"company": company.name, "count": len(primaries[company_id])},
                )


def _yes_no() -> str:
    return _("use 1/0, ja/nein, yes/no or true/false")
