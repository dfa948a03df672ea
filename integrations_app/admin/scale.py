"""Changelists that stay fast at the gateway's planned size (issue 13, point 3).

- `ScaledPaginator`: no full COUNT(*) of a large table per page. An unfiltered changelist on
  MySQL/MariaDB takes the table's row estimate (``information_schema.TABLES.TABLE_ROWS``) once
  it is beyond ``COUNT_CAP``; any other count is exact up to ``COUNT_CAP`` rows
  (``SELECT COUNT(*) FROM (SELECT id ... LIMIT cap)``), so a broad filter reads at most that many
  keys, and its pages end at the cap. The paginator then says "about N" / "at least N"
  (``admin/integrations_app/pagination.html``).
- Searches of the large tables (`search_calls`, `search_by_customer`, `customer_condition`):
  one index per search, never ``LIKE '%...%'`` over every column.
- `CompanyFilter`: the company sidebar filter as a search box (companies whose name starts
  with the text, or whose key is the number), not a list of thousands of companies read by
  ``SELECT DISTINCT company_id`` over the whole table.
- `IndexedValuesFilter`: the values of an indexed column by a loose index scan (``SELECT
  DISTINCT col FROM t``, no WHERE: MariaDB answers from the index), `known_values`: a fixed list
  for a column without an index.
"""

from django.contrib import admin, messages
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from integrations_app.admin.labelled import LabelledValuesFilter
from integrations_app.admin.lookups import MAX_SEARCH_CHARS
from integrations_app.models import Company, Customer
from integrations_app.phone import to_e164

COUNT_CAP = 5_000
COMPANY_CHOICES = 20
MAX_CUSTOMERS = 200


def search_text(term: str) -> str:
    """The search as one text (the admin's limits apply: one bounded string)."""
    if len(term) > MAX_SEARCH_CHARS:
        raise admin.options.IncorrectLookupParameters("search")
    return " ".join(term.split())


def number_forms(text: str) -> set[str]:
    """The forms of a phone number a row may hold: as typed, and its E.164 form."""
    e164 = to_e164(text)
    return {text, e164} if e164 else set()


def customer_condition(text: str) -> Q:
    """One index per search: an e-mail (exact), a phone number (as typed or E.164), else the
    name's beginning."""
    if "@" in text:
        return Q(email=text)
    forms = number_forms(text)
    if forms:
        return Q(phone__in=forms)
    return Q(name__istartswith=text)


def customers_matching(text: str) -> tuple[list, bool]:
    """Keys of the customers `customer_condition` finds (at most ``MAX_CUSTOMERS``, by name),
    and whether more match."""
    condition = customer_condition(text)
    keys = list(
        Customer.all_objects.filter(condition)
        .order_by("name", "pk")
        .values_list("pk", flat=True)[: MAX_CUSTOMERS + 1]
    )
    return keys[:MAX_CUSTOMERS], len(keys) > MAX_CUSTOMERS


def _by_customer(request, queryset, text):
    keys, more = customers_matching(text)
    if more:
        messages.warning(
            request,
            _(
                "More than %(count)s customers match “%(text)s”: the list shows the rows of "
                "the first %(count)s by name. Type more of the name to narrow it."
            )
            % {"count": MAX_CUSTOMERS, "text": text},
        )
    return queryset.filter(customer_id__in=keys)


def search_calls(request, queryset, term: str):
    """A phone number (from or to, typed or E.164), a Retell call id (prefix, ``call_...``),
    else a customer's name prefix, e-mail or phone: each an index lookup."""
    text = search_text(term)
    if not text:
        return queryset
    forms = number_forms(text)
    if forms:
        return queryset.filter(Q(from_number__in=forms) | Q(to_number__in=forms))
    if text.lower().startswith("call_"):
        return queryset.filter(retell_call_id__istartswith=text)
    return _by_customer(request, queryset, text)


def search_by_customer(request, queryset, term: str):
    """Rows of the customers whose name starts with the text, or e-mail or phone is it."""
    text = search_text(term)
    if not text:
        return queryset
    return _by_customer(request, queryset, text)


def _where_sql(queryset):
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.compile(query.where)
    except FullResultSet:  # no condition at all
        return "", ()
    except EmptyResultSet:
        return None, ()
    return sql, tuple(params)


def unfiltered(queryset) -> bool:
    """Whether ``queryset`` asks for every row its model's default manager gives."""
    model = queryset.model
    return _where_sql(queryset) == _where_sql(model._default_manager.using(queryset.db).all())


def estimated_rows(queryset) -> int | None:
    """The table's row estimate on MySQL/MariaDB (InnoDB statistics), else None."""
    connection = connections[queryset.db]
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_ROWS FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


class ScaledPaginator(Paginator):
    """A paginator whose count never reads a whole large table (see the module docstring)."""

    cap = COUNT_CAP
    estimated = False  # the count is the table's estimate ("about ...")
    capped = False  # the count stopped at the cap ("at least ...")

    @cached_property
    def count(self):
        queryset = self.object_list
        if unfiltered(queryset):
            estimate = estimated_rows(queryset)
            if estimate is not None and estimate > self.cap:
                self.estimated = True
                return estimate
        count = queryset.order_by().values("pk")[: self.cap].count()
        self.capped = count >= self.cap
        return count


class CompanyFilter(admin.FieldListFilter):
    """The rows of one company, chosen with a search box (name prefix or key)."""

    template = "admin/integrations_app/company_filter.html"
    search_var = "company_q"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg = f"{field_path}__id__exact"
        self.lookup_val = params.get(self.lookup_kwarg)
        self.search = params.pop(self.search_var, [""])
        self.search = (self.search[-1] if isinstance(self.search, list) else self.search).strip()
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("company")

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.lookup_kwarg]

    def selected_id(self):
        value = self.used_parameters.get(self.lookup_kwarg)
        if isinstance(value, list):
            value = value[-1] if value else None
        return str(value) if value not in (None, "") else None

    def queryset(self, request, queryset):
        key = self.selected_id()
        if key is None:
            return queryset
        try:
            return queryset.filter(**{f"{self.field_path}_id": int(key)})
        except (TypeError, ValueError) as error:
            raise admin.options.IncorrectLookupParameters(error) from error

    def matches(self):
        text = self.search[:100]
        if not text:
            return []
        condition = Q(name__istartswith=text)
        if text.isdigit() and len(text) < 19:
            condition |= Q(pk=int(text))
        return list(
            Company.all_objects.filter(condition)
            .order_by("name")
            .values_list("pk", "name")[:COMPANY_CHOICES]
        )

    def choices(self, changelist):
        key = self.selected_id()
        self.hidden = [
            (name, value)
            for name, value in changelist.params.items()
            if name not in (self.lookup_kwarg, self.search_var)
        ]
        self.search_text = self.search
        yield {
            "selected": key is None,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg]),
            "display": _("All"),
        }
        if key is not None:
            name = Company.all_objects.filter(pk=key).values_list("name", flat=True).first()
            yield {
                "selected": True,
                "query_string": changelist.get_query_string({self.lookup_kwarg: key}),
                "display": name or key,
            }
        for pk, name in self.matches():
            if str(pk) == key:
                continue
            yield {
                "selected": False,
                "query_string": changelist.get_query_string({self.lookup_kwarg: pk}),
                "display": name,
            }


class IndexedValuesFilter(LabelledValuesFilter):
    """The distinct values of an indexed column, read from its index: no WHERE and no join,
    so MariaDB answers with a loose index scan (soft-deleted rows' values included); shown
    by their labels (integrations_app/labels.py)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = self.values(field, model)

    def values(self, field, model):
        return (
            model._base_manager.order_by(field.name).distinct().values_list(field.name, flat=True)
        )


def known_values(*values):
    """A filter offering a fixed list of values (for a column without an index), plus the one
    a URL chose."""

    class KnownValuesFilter(IndexedValuesFilter):
        def values(self, field, model):
            chosen = self.lookup_val[-1] if isinstance(self.lookup_val, list) else self.lookup_val
            return sorted({*values, *([chosen] if chosen else [])})

    return KnownValuesFilter


class RelatedByPrefetch:
    """A changelist reads its own rows first, in its own indexed order, and the related rows
    of the page afterwards (one ``WHERE id IN (...)`` per relation in ``prefetch``): a join
    lets MariaDB start from the small table and sort the whole join. A key that names no row
    still shows as missing (the prefetch leaves the relation empty)."""

    prefetch = ()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(*self.prefetch)


class PrefixSearch:
    """The search as one text matched at the start of each search column (``LIKE 'text%'``,
    an index range where the column has one; ``=column``: the exact value), a phone number
    also in its E.164 form, and the company by the start of its name (a subquery over the
    companies, not a join): never ``LIKE '%text%'`` over every column."""

    search_company = True
    number_columns = ()

    def get_search_results(self, request, queryset, search_term):
        text = search_text(search_term)
        if not text:
            return queryset, False
        return queryset.filter(self.search_condition(request, text)), False

    def search_condition(self, request, text: str) -> Q:
        """The rows the search text finds, as one condition (an admin may OR its own)."""
        condition = Q()
        for name in self.get_search_fields(request):
            if name.startswith("="):
                condition |= Q(**{name[1:]: text})
            elif "__" not in name:
                condition |= Q(**{f"{name.lstrip('^')}__istartswith": text})
        forms = number_forms(text)
        for name in self.number_columns if forms else ():
            condition |= Q(**{f"{name}__in": forms})
        if self.search_company:
            companies = Company.all_objects.filter(name__istartswith=text).values("pk")
            condition |= Q(company_id__in=companies)
        return condition
