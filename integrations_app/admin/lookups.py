"""What a changelist URL may ask of the database: every admin of the site, Django's own too.

A changelist turns its query string into a query. Some of what a URL can ask is an error page
or a denial of service rather than a filter:

- ``name__regex=^(.*.*)*Z$`` backtracks for seconds per row (SQLite runs Python's ``re`` on
  every row), and ``name__regex=(`` is a database error: regex lookups are refused;
- ``id__range=1,9`` reaches the query unsplit (the admin splits only ``__in``), a database
  error on a text column: range lookups are refused too;
- ``id__in=99999999999999999999`` overflows SQLite's integer: numbers beyond a bigint are
  refused on integer columns;
- ``config__contains=1`` is a database error on SQLite, and ``config__password__startswith=a``
  would probe a secret the gateway left in a JSON column: lookups into JSON are refused;
- ``q=`` with thousands of words is a query too deep for SQLite: the search takes at most
  ``MAX_SEARCH_TERMS`` words and ``MAX_SEARCH_CHARS`` characters.

Each is refused as an invalid lookup (``IncorrectLookupParameters``), which the admin answers
with its usual redirect to ``?e=1``. `guard_site` puts `SafeChangelist` in front of every
registered admin class; `GatewayAdmin` has it from the start.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.utils.text import smart_split

from integrations_app.ids import MAX_DIGITS, MAX_ID

REFUSED_LOOKUPS = frozenset({"regex", "iregex", "range"})
MAX_SEARCH_TERMS = 20
MAX_SEARCH_CHARS = 500


def _final_field(model, lookup: str):
    """The column a lookup path ends on (through relations, to the related key), or None."""
    field = None
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        except FieldDoesNotExist:
            break
        if not getattr(field, "path_infos", None):
            break
        model = field.path_infos[-1].to_opts.model
        field = field.target_field if field.many_to_one or field.one_to_one else field
    return field


def _beyond_bigint(text: str) -> bool:
    text = text.strip().lstrip("+-")
    return text.isascii() and text.isdigit() and (len(text) > MAX_DIGITS or int(text) > MAX_ID)


def refused(model, lookup: str, value) -> bool:
    """Whether a URL's lookup is one a changelist must not run."""
    parts = lookup.split(LOOKUP_SEP)
    if REFUSED_LOOKUPS.intersection(parts):
        return True
    field = _final_field(model, lookup)
    if isinstance(field, models.JSONField):
        return True
    if not isinstance(field, models.IntegerField):
        return False
    values = str(value).split(",") if parts[-1] == "in" else [str(value)]  # as the admin does
    return any(_beyond_bigint(v) for v in values)


class SafeChangelist:
    """Refuses, as invalid lookups, what a changelist URL must not make the database do."""

    def lookup_allowed(self, lookup, value, request=None):
        if refused(self.model, lookup, value):
            raise IncorrectLookupParameters(lookup)
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        too_long = len(search_term) > MAX_SEARCH_CHARS
        if too_long or sum(1 for _word in smart_split(search_term)) > MAX_SEARCH_TERMS:
            raise IncorrectLookupParameters("search")
        return super().get_search_results(request, queryset, search_term)


def guard_site(site) -> None:
    """Put `SafeChangelist` in front of every admin registered on ``site`` without it
    (Django's users and groups, axes, the task store, the console's own).

    A ``date_hierarchy`` (axes' logs have one) becomes a date filter: the hierarchy converts
    time zones in SQL, a 500 on a MariaDB without time zone tables (admin/base.py)."""
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        attrs = {}
        if cls.date_hierarchy:
            dated = (cls.date_hierarchy, admin.DateFieldListFilter)
            attrs = {"date_hierarchy": None, "list_filter": _with_date_filter(cls, dated)}
        if attrs or not issubclass(cls, SafeChangelist):
            site.unregister(model)
            bases = (cls,) if issubclass(cls, SafeChangelist) else (SafeChangelist, cls)
            site.register(model, type(cls.__name__, bases, attrs))


def _with_date_filter(cls, dated: tuple) -> list:
    """``cls.list_filter`` with its plain entry for the hierarchy's field made a date filter."""
    field = dated[0]
    kept = [f for f in cls.list_filter if f != field]
    return [dated, *kept]
