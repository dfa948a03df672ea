"""What the validation needs from the database, loaded once whatever the number of rows.

Three queries: every company, every branch (deleted ones included, to say why a row cannot use
them), every phone number with the E.164 forms the gateway would match it by (semantics.md §3).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from integrations_app.models import Branch, Company, PhoneNumber
from integrations_app.phone import claimed_forms

# The columns an import writes; `before` and `after` of a row hold exactly these.
WRITTEN = (
    "company_id",
    "branch_id",
    "number",
    "number_normalized",
    "phone_number",
    "country_code",
    "type",
    "is_primary",
    "is_active",
    "description",
)


@dataclass(frozen=True)
class CompanyRow:
    id: int
    name: str
    deleted: bool


@dataclass(frozen=True)
class BranchRow:
    id: str
    company_id: int
    name: str
    deleted: bool


@dataclass
class Lookups:
    companies_by_id: dict[int, CompanyRow] = field(default_factory=dict)
    companies_by_name: dict[str, list[CompanyRow]] = field(
        default_factory=lambda: defaultdict(list)
    )
    branches_by_id: dict[str, BranchRow] = field(default_factory=dict)
    branches_of: dict[int, list[BranchRow]] = field(default_factory=lambda: defaultdict(list))
    # E.164 -> the existing rows the gateway would find by it, as {column: value} with "pk"
    numbers: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    primaries: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    # the rows with no E.164 form in any column, by the text an export writes for them
    unmatched: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))

    def names(self) -> "Lookups":
        """The companies and branches alone (what a preview names), without the numbers: a plan
        keeps these, not every phone number of the database, while it is shown or written."""
        return Lookups(companies_by_id=self.companies_by_id, branches_by_id=self.branches_by_id)

    def live_branch_ids(self, company_id: int) -> frozenset[str]:
        return frozenset(b.id for b in self.branches_of.get(company_id, ()) if not b.deleted)


def load() -> Lookups:
    found = Lookups()
    for pk, name, deleted_at in Company.all_objects.order_by().values_list(
        "id", "name", "deleted_at"
    ):
        company = CompanyRow(pk, (name or "").strip(), deleted_at is not None)
        found.companies_by_id[pk] = company
        found.companies_by_name[company.name].append(company)
    for pk, company_id, name, deleted_at in Branch.all_objects.order_by().values_list(
        "id", "company_id", "name", "deleted_at"
    ):
        branch = BranchRow(pk, company_id, (name or "").strip(), deleted_at is not None)
        found.branches_by_id[pk.lower()] = branch
        found.branches_of[company_id].append(branch)
    for row in PhoneNumber.objects.order_by().values("id", *WRITTEN):
        row["pk"] = row.pop("id")
        row["is_primary"], row["is_active"] = bool(row["is_primary"]), bool(row["is_active"])
        forms = claimed_forms(row)
        for e164 in forms:
            found.numbers[e164].append(row)
        if not forms:
            found.unmatched[(row["number"] or row["number_normalized"] or "").strip()].append(row)
        if row["is_primary"] and row["company_id"] is not None:
            found.primaries[row["company_id"]].add(row["pk"])
    return found
