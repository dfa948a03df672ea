"""A row identical to the database is unchanged, whatever gaps the database has (issue 12, point 6).

An unedited export imports again as "unchanged": a number without a branch, one not stored in
E.164 form, one of a deleted company or branch … is in the file exactly as in the database, so
the row changes nothing and never blocks the import. Its gap is a warning in the preview (the
message the full rules would give, or what they would have changed), the import does not write
it, and the audit still finds the gap. Only rows that change something pass the full rules.

"Identical" is what the export writes for the existing row, read back: the company by id or
name, the branch by id or name (empty for none), type, primary, active and description equal or
empty (empty keeps the database's value), the number one the row claims.
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from integrations_app.labels import quoted
from integrations_app.phone import ROUTING_COLUMNS
from integrations_app.phone_import.columns import parse_boolean, parse_type
from integrations_app.phone_import.errors import RowError
from integrations_app.phone_import.lookups import WRITTEN, Lookups


def needs_a_look(result) -> bool:
    """Whether the full rules refused the row or would change an existing one: only then can
    the row be one identical to the database with a gap (the common row costs nothing more)."""
    return bool(result.errors) or (result.before is not None and result.before != result.after)


def identical_row(texts, e164: str | None, found: Lookups) -> dict | None:
    """The existing row the cells (``texts``, in validate._KEYS order) repeat, or None."""
    number_text = texts[2]
    if e164 is not None:
        candidates = found.numbers.get(e164, ())
    else:  # a number the database holds but no rule reads (no E.164 form at all)
        candidates = found.unmatched.get(number_text, ())
    return next((row for row in candidates if _same(texts, row, found)), None)


def _same(texts, row: dict, found: Lookups) -> bool:
    company, branch, _number, kind, primary, active, described = texts
    return (
        _same_company(company, row["company_id"], found)
        and _same_branch(branch, row["branch_id"], found)
        and (not kind or kind == (row["type"] or "") or parse_type(kind) == row["type"])
        and (not primary or parse_boolean(primary) == row["is_primary"])
        and (not active or parse_boolean(active) == row["is_active"])
        and (not described or described == (row["description"] or "").strip())
    )


def _same_company(text: str, company_id, found: Lookups) -> bool:
    if company_id is None or not text:
        return company_id is None and not text
    company = found.companies_by_id.get(company_id)
    return text == str(company_id) or (company is not None and text == company.name)


def _same_branch(text: str, branch_id, found: Lookups) -> bool:
    if branch_id is None or not text:
        return branch_id is None and not text
    branch = found.branches_by_id.get(str(branch_id).lower())
    named = branch is not None and text.casefold() == branch.name.casefold()
    return text.lower() == str(branch_id).lower() or named


def as_unchanged(result, row: dict, column) -> None:
    """Make ``result`` the unchanged ``row`` with its gaps as warnings (``column(key)``: the
    file's header of a column)."""
    changed = set(result.changed)
    no_branch = row["branch_id"] is None
    warnings = [
        RowError(result.row, e.column, e.message)
        for e in result.errors
        if not (no_branch and e.column == column("branch"))  # said once, below
    ]
    if changed & set(ROUTING_COLUMNS):
        warnings.append(RowError(result.row, column("number"), _not_e164(row, result.number)))
    if no_branch:
        warnings.append(
            RowError(
                result.row,
                column("branch"),
                _("The number has no branch: the import leaves it as it is (the audit lists it)."),
            )
        )
    result.errors, result.warnings = (), warnings
    result.pk = row["pk"]
    result.before = result.after = tuple(row[c] for c in WRITTEN)
    result.primary_given = False  # it sets nothing: other rows' primary numbers are checked


def _stored(value) -> str:
    """A stored routing value in quotation marks, or "empty" for none (not „“)."""
    return quoted(value) if value else pgettext("stored value", "empty")


def _not_e164(row: dict, e164: str | None) -> str:
    return _(
        "The number is stored as %(number)s (normalised: %(normalized)s), not as %(e164)s "
        "in every routing column: the import leaves it as it is."
    ) % {
        "number": _stored(row["number"]),
        "normalized": _stored(row["number_normalized"]),
        "e164": e164 or "",
    }
