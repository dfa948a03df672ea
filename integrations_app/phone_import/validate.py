"""Every row checked in one pass against the database as loaded once (lookups.py).

Each row ends as new, update, unchanged or error, with every reason it cannot be imported:
the row, the column and the reason, in the user's language. A cell a message quotes is shown
shortened (``errors.shown``): a cell may hold 10,000 characters, a message stays one line.
"""

import difflib
import re
from collections import defaultdict
from itertools import islice
from operator import itemgetter

import phonenumbers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from integrations_app.phone import PRIMARIES_PER_COMPANY, branch_fits, is_valid
from integrations_app.phone_import import lookups
from integrations_app.phone_import.columns import (
    BY_KEY,
    boolean_words,
    either,
    parse_boolean,
    parse_type,
    type_words,
)
from integrations_app.phone_import.errors import FORMULA_STARTS, RowError, shown
from integrations_app.phone_import.plan import (
    BATCH,
    DESCRIPTION_MAX,
    ERROR,
    NEW,
    UNCHANGED,
    UPDATE,
    WRITTEN_INDEX,
    ImportPlan,
    RowResult,
)
from integrations_app.phone_import.reader import Table
from integrations_app.phone_import.store import RowStore
from integrations_app.phone_import.unchanged import as_unchanged, identical_row, needs_a_look


def validate(table: Table, *, region: str = "DE", found: lookups.Lookups | None = None):
    """The plan for ``table``: every row with its status and errors (three queries in all).

    The rows are checked batch by batch as they are read and their outcomes stored on disk;
    then what only the whole file shows (a number twice, several primary numbers) is added.
    """
    found = found or lookups.load()
    region = region.upper()
    checker = _RowChecker(table, region, found)
    store = RowStore()
    error_count = 0
    rows = table.rows()
    while batch := list(islice(rows, BATCH)):
        results = [checker.check(number, cells) for number, cells in batch]
        for result in results:
            checker.track_primary(result)
            if result.errors:
                error_count += len(result.errors)
                result.status, result.after = ERROR, None
            elif result.before is None:
                result.status = NEW
            else:
                result.status = UPDATE if result.before != result.after else UNCHANGED
        store.add(results)
    file_errors = checker.check_file(store)
    store.add_errors(file_errors, ERROR)
    error_count += sum(len(errors) for errors in file_errors.values())
    return ImportPlan(
        table=table, region=region, store=store, error_count=error_count, names=found.names()
    )


_PLAIN_NUMBER = re.compile(r"^[\d\s()/.+-]+$", re.ASCII)  # no letters: no extension, no word
_SEPARATORS = re.compile(r"[\s()/.-]", re.ASCII)
_KEYS = ("company", "branch", "number", "type", "primary", "active", "description")
_DEFAULTS = {"type": "direct", "is_primary": False, "is_active": True, "description": None}


class _RowChecker:
    def __init__(self, table: Table, region: str, found: lookups.Lookups):
        self.table, self.region, self.found = table, region, found
        # Each column's position; a column the file lacks reads an empty cell past the others.
        self.width = len(table.headers)
        positions = [table.positions.get(key, self.width) for key in _KEYS]
        self.padded = any(key not in table.positions for key in _KEYS)
        self.pick = itemgetter(*positions)
        self.companies: dict[str, tuple] = {}  # cell text -> (company, error): rows repeat them
        self.branches: dict[tuple, tuple] = {}  # (company id, cell text) -> (branch id, error)
        self.country_codes: dict[int, str] = {}
        # The primary numbers of each company as the import goes (existing ones by key, new
        # ones by row), and the rows that set primary = yes: few, whatever the file's size.
        self.primaries = {c: set(pks) for c, pks in found.primaries.items()}
        self.primary_rows: dict[int, list[int]] = defaultdict(list)

    def column(self, key: str) -> str:
        return self.table.header_of(key) or str(BY_KEY[key].label)

    def error(self, result: RowResult, key: str, message: str) -> None:
        if not result.errors:
            result.errors = []
        result.errors.append(RowError(result.row, self.column(key), message))

    def cells_of(self, cells: list[str]) -> list[str]:
        """The cells of the columns in ``_KEYS`` order, stripped ("" where there is none)."""
        if self.padded or len(cells) != self.width:
            # a short or long row, or a column the file lacks: exactly the header's width,
            # then the one empty cell that the missing columns read
            cells = cells[: self.width] + [""] * (self.width + 1 - min(len(cells), self.width))
        return [_unquoted(cell.strip()) for cell in self.pick(cells)]

    def check(self, number: int, cells: list[str]) -> RowResult:
        texts = self.cells_of(cells)
        result = self.check_cells(number, texts)
        # A row identical to the database changes nothing: never an error, its gaps warnings.
        if needs_a_look(result) and (row := identical_row(texts, result.number, self.found)):
            as_unchanged(result, row, self.column)
        return result

    def check_cells(self, number: int, texts: list[str]) -> RowResult:
        result = RowResult(row=number)
        company_text, branch_text, number_text, kind_text, primary_text, active_text, described = (
            texts
        )
        company = self.company(result, company_text)
        e164, country_code = self.number(result, number_text)
        kind = self.choice(result, "type", kind_text, parse_type, _type_hint)
        primary = self.choice(result, "primary", primary_text, parse_boolean, _yes_no)
        active = self.choice(result, "active", active_text, parse_boolean, _yes_no)
        description = described or None
        if description and len(description) > DESCRIPTION_MAX:
            self.error(
                result,
                "description",
                _("The description is longer than %(max)d characters.") % {"max": DESCRIPTION_MAX},
            )
        result.primary_given = primary is True
        result.number = e164  # a number twice in the file is an error whatever else is wrong
        existing = self.existing(result, e164, company) if e164 else None
        branch_id = self.branch(result, branch_text, company) if company else None
        result.named = (company.id, branch_id) if company else None
        if company is None or e164 is None:
            return result
        if existing is None:
            base = _DEFAULTS
        else:
            result.pk = existing["pk"]
            result.before = tuple(existing[c] for c in lookups.WRITTEN)
            base = existing
        # In the order of lookups.WRITTEN.
        result.after = (
            company.id,
            branch_id,
            e164,
            e164,
            e164,
            country_code,
            kind if kind is not None else base["type"],
            primary if primary is not None else base["is_primary"],
            active if active is not None else base["is_active"],
            description if description is not None else base["description"],
        )
        return result

    def company(self, result: RowResult, text: str):
        cached = self.companies.get(text)
        if cached is None:
            cached = self.companies[text] = self._company(text)
        company, message = cached
        if message:
            self.error(result, "company", message)
        return company

    def _company(self, text: str) -> tuple:
        """(the company, None) or (None, why not)."""
        if not text:
            return None, _("The company is missing.")
        # An id: ASCII digits only ("²".isdigit() is true, int("²") fails), and not absurdly long.
        is_id = text.isascii() and text.isdigit() and len(text) <= 19
        company = self.found.companies_by_id.get(int(text)) if is_id else None
        candidates = [company] if company else self.found.companies_by_name.get(text, [])
        live = [c for c in candidates if not c.deleted]
        if len(live) == 1:
            return live[0], None
        if len(live) > 1:
            return None, _("Several companies are called “%(name)s”: use the company's id.") % {
                "name": shown(text)
            }
        if candidates:
            return None, _("The company “%(name)s” is deleted.") % {"name": shown(text)}
        message = _("There is no company “%(name)s”.") % {"name": shown(text)}
        live_names = [c.name for c in self.found.companies_by_id.values() if not c.deleted]
        return None, message + _suggestion(text, live_names)

    def number(self, result: RowResult, text: str) -> tuple[str | None, str | None]:
        if not text:
            self.error(result, "number", _("The number is missing."))
            return None, None
        # Only digits and separators: phonenumbers drops the separators too, a little slower.
        plain = _SEPARATORS.sub("", text) if _PLAIN_NUMBER.match(text) else text
        try:
            parsed = phonenumbers.parse(plain, self.region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not is_valid(parsed):
            self.error(
                result,
                "number",
                _("“%(number)s” is not a valid phone number (region %(region)s).")
                % {"number": shown(text), "region": self.region},
            )
            return None, None
        if parsed.extension:
            self.error(
                result,
                "number",
                _(
                    "“%(number)s” has an extension: calls reach the gateway on the number alone, "
                    "so import it without the extension."
                )
                % {"number": shown(text)},
            )
            return None, None
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        code = parsed.country_code
        country_code = self.country_codes.get(code) or self.country_codes.setdefault(
            code, f"+{code}"
        )
        return e164, country_code

    def choice(self, result: RowResult, key: str, text: str, parse, hint):
        if not text:
            return None
        value = parse(text)
        if value is None:
            self.error(
                result,
                key,
                _("“%(value)s” is not allowed here: %(hint)s.")
                % {"value": shown(text), "hint": hint()},
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

    def branch(self, result: RowResult, text: str, company):
        if text:
            key = (company.id, text)
            cached = self.branches.get(key)
            if cached is None:
                cached = self.branches[key] = self._named_branch(company, text)
        else:
            cached = self._branch_of(company)
        branch_id, message = cached
        if message:
            self.error(result, "branch", message)
        return branch_id

    def _named_branch(self, company, text: str) -> tuple:
        """(the id of the branch the cell names, None) or (None, why it cannot be used)."""
        found = self.found
        branch = found.branches_by_id.get(text.lower())
        if branch is None:
            own = found.branches_of.get(company.id, ())
            # the exact name, else the name in any case ("pankow" for "Pankow")
            named = [b for b in own if b.name == text] or [
                b for b in own if b.name.casefold() == text.casefold()
            ]
            live = [b for b in named if not b.deleted]
            if len(live) > 1:
                return None, _(
                    "%(company)s has several branches called “%(name)s”: use the id."
                ) % {"company": company.name, "name": shown(text)}
            branch = live[0] if live else (named[0] if named else None)
        if branch is None:
            message = _("%(company)s has no branch “%(name)s”.") % {
                "company": company.name,
                "name": shown(text),
            }
            own = [b.name for b in found.branches_of.get(company.id, ()) if not b.deleted]
            return None, message + _suggestion(text, own, listed=True)
        if not branch_fits(branch.company_id, company.id):
            return None, _(
                "The branch “%(name)s” belongs to another company, not to %(company)s."
            ) % {"name": shown(text), "company": company.name}
        if branch.deleted:
            return None, _("The branch “%(name)s” is deleted.") % {"name": shown(text)}
        return branch.id, None

    def _branch_of(self, company) -> tuple:
        """No branch in the file: the company's branch when it has exactly one."""
        live = self.found.live_branch_ids(company.id)
        if len(live) == 1:
            return next(iter(live)), None
        if not live:
            return None, _(
                "%(company)s has no branch: create one first, calls need a branch to book."
            ) % {"company": company.name}
        return None, _("%(company)s has %(count)d branches: name the branch of this number.") % {
            "company": company.name,
            "count": len(live),
        }

    def track_primary(self, result: RowResult) -> None:
        """Follow each company's primary numbers row by row (before errors clear ``after``)."""
        if result.after is None:
            return
        company = result.after[WRITTEN_INDEX["company_id"]]
        key = result.pk or f"row:{result.row}"
        if result.after[WRITTEN_INDEX["is_primary"]]:
            self.primaries.setdefault(company, set()).add(key)
        elif company in self.primaries:
            self.primaries[company].discard(key)
        if result.primary_given:
            self.primary_rows[company].append(result.row)

    def check_file(self, store: RowStore) -> dict[int, list[RowError]]:
        """What only the whole file shows: a number twice, two primary numbers of one company."""
        errors: dict[int, list[RowError]] = defaultdict(list)
        number_column, primary_column = self.column("number"), self.column("primary")
        for number, rows, changing in store.numbers_seen_twice(UNCHANGED):
            for row in changing:  # a row identical to the database never fails
                others = ", ".join(str(n) for n in rows if n != row)
                message = _("%(number)s is in the file more than once (also row %(rows)s).") % {
                    "number": number,
                    "rows": others,
                }
                errors[row].append(RowError(row, number_column, message))
        for company, rows in self.primary_rows.items():
            count = len(self.primaries.get(company, ()))
            if count <= PRIMARIES_PER_COMPANY:
                continue
            message = _(
                "%(company)s would have %(count)d primary numbers after the import: "
                "a company has at most one (set the others to primary = no)."
            ) % {"company": self.found.companies_by_id[company].name, "count": count}
            for row in rows:
                errors[row].append(RowError(row, primary_column, message))
        return dict(sorted(errors.items()))


def _suggestion(text: str, names: list[str], *, listed: bool = False) -> str:
    """ " Did you mean …?" for a name close to what was typed; with ``listed``, else the names
    themselves when there are few ("Altona" for the branch "Salon Haarmonie Altona")."""
    folded = {name.casefold(): name for name in names}
    close = difflib.get_close_matches(text.casefold(), folded, n=1, cutoff=0.75)
    within = [name for name in names if text.casefold() in name.casefold()]
    if close or len(within) == 1:
        return " " + _("Did you mean “%(name)s”?") % {
            "name": folded[close[0]] if close else within[0]
        }
    if listed and 0 < len(names) <= 5:
        return " " + _("Its branches: %(names)s.") % {"names": ", ".join(sorted(names))}
    return ""


def _unquoted(cell: str) -> str:
    """A cell as it was before an export neutralised it (error_report.neutralise): "'=1" is "=1"."""
    if cell[:1] == "'" and cell[1:2] and cell[1] in FORMULA_STARTS:
        return cell[1:].strip()
    return cell


def _yes_no() -> str:
    return _("use %(words)s") % {"words": either(boolean_words())}


def _type_hint() -> str:
    return _("use %(words)s") % {"words": either(type_words(get_language()))}
