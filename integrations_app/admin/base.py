"""What every gateway admin shares: writes through the services, no secrets, fixed queries.

- Writes go through :mod:`integrations_app.services` (one write path; the request is the
  operation the change store groups them by); admin classes stay thin.
- Secret columns (``GatewayModel.SECRET_COLUMNS``) are ``editable=False`` on the models, so no form
  holds them; they are also refused as list filters, search fields and URL lookups, so not even
  "starts with" can be probed through a changelist.
- A changelist URL cannot ask for a regex, a range, a lookup into JSON, an integer beyond a
  bigint or a search of hundreds of words (``lookups.SafeChangelist``, on every admin of the
  site); forms refuse JSON nested too deep and, at the field, any value the write services
  would refuse (``ServiceLimits``).
- Changelists run a fixed number of queries: every admin names its ``list_select_related``
  (Django's automatic ``select_related()`` would INNER JOIN every NOT NULL foreign key and hide
  rows whose key points nowhere), counts are subquery annotations, and the full result count
  is not run.
- Dates are filtered with ``DateFieldListFilter``, not ``date_hierarchy``: the hierarchy converts
  time zones in SQL (``CONVERT_TZ``), which fails on a MariaDB without time zone tables.
- The object history reads the one change store (every source; secrets as fingerprints).
"""

import json

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.constants import LOOKUP_SEP
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from changelog.selectors import object_changes
from integrations_app import services
from integrations_app.admin.forms import BoundedJSONField
from integrations_app.admin.history import change_rows
from integrations_app.admin.labelled import LabelledValues
from integrations_app.admin.lookups import SafeChangelist
from integrations_app.admin.scale import ScaledPaginator
from integrations_app.models import GATEWAY_MODELS, Branch, Company
from integrations_app.services import limits

TIMESTAMPS = ("created_at", "updated_at")

# Every column name that holds a secret in some gateway table. No non-secret column of the
# mirrored tables shares one of these names, so a lookup naming one is refused outright.
SECRET_NAMES = frozenset(name for model in GATEWAY_MODELS for name in model.secret_columns())


def names_a_secret(lookup: str) -> bool:
    return any(part in SECRET_NAMES for part in lookup.split(LOOKUP_SEP))


def count_of(model, fk: str = "company"):
    """A correlated COUNT of the live rows of ``model`` pointing at the outer row (0, not NULL)."""
    rows = (
        model._default_manager.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def missing_reference(key) -> str:
    return format_html(
        '<strong class="askpro-missing">{}</strong>',  # coloured by console/console.css
        gettext("missing (%(key)s)") % {"key": key},
    )


def related_or_missing(obj, field_name: str):
    """The related object (loaded by ``list_select_related``), or a clear mark if its key
    names a row that does not exist; ``None`` when the key is empty."""
    field = obj._meta.get_field(field_name)
    key = getattr(obj, field.attname)
    if key is None:
        return None
    try:
        related = getattr(obj, field_name)
    except ObjectDoesNotExist:
        related = None
    if related is None:
        return missing_reference(key)
    if getattr(related, "deleted_at", None) is not None:
        return gettext("%(name)s (deleted)") % {"name": related}
    return related


class BranchChoiceField(forms.ModelChoiceField):
    """Branch names repeat across companies ("Hauptfiliale"): show the company too."""

    def label_from_instance(self, obj):
        return f"{obj.company} · {obj}"


def branch_choices_queryset():
    return Branch.objects.select_related("company").order_by("company__name", "name")


class ServiceLimits:
    """A ModelForm that shows, at its field, what the write services would refuse to write
    (``services.limits``: a column's range, an enum's values, a secret in plain JSON), so
    that the admin answers with the form again rather than an error page."""

    def _post_clean(self):
        super()._post_clean()
        opts = self.instance._meta
        changed = [
            f.attname
            for f in opts.concrete_fields
            if f.name in self.changed_data and f.name not in self.errors
        ]
        for name, message in limits.problems(self.instance, changed):
            self.add_error(name if name in self.fields else None, message)


class InlineAdminFormSet(helpers.InlineAdminFormSet):
    """ "Add another branch", not Django's "Add another Branch": the verbose name as it is
    (lower case in English, a German noun capitalised by its translation)."""

    def inline_formset_data(self):
        data = json.loads(super().inline_formset_data())
        data["options"]["addText"] = gettext("Add another %(verbose_name)s") % {
            "verbose_name": self.opts.verbose_name
        }
        return json.dumps(data)


class GatewayAdmin(LabelledValues, SafeChangelist, admin.ModelAdmin):
    """Base admin of a mirrored gateway table."""

    show_full_result_count = False
    # No full COUNT(*) of a large table per page: an estimate or a capped count (scale.py).
    paginator = ScaledPaginator
    list_per_page = 100
    list_select_related = ()
    # The service that saves a row of this model (``services.save_record`` or a specific one).
    save_service = staticmethod(services.save_record)
    history_template = "admin/integrations_app/object_history.html"
    history_per_page = 25

    # --- secrets -------------------------------------------------------------------------
    def lookup_allowed(self, lookup, value, request=None):
        if names_a_secret(lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return [f for f in fields if not names_a_secret(f.lstrip("^=@"))]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            for name in TIMESTAMPS:
                if hasattr(obj, name) and name not in readonly:
                    readonly.append(name)
        return readonly

    def get_fieldsets(self, request, obj=None):
        """On a change page, the row's created/updated times in a closed section at the end;
        seen read only, the raw values by their labels (admin/labelled.py)."""
        fieldsets = self.with_record_section(super().get_fieldsets(request, obj), obj)
        return self.labelled_fieldsets(request, obj, fieldsets)

    def with_record_section(self, fieldsets, obj):
        fieldsets = list(fieldsets)
        if obj is None:
            return fieldsets
        shown = set(flatten_fieldsets(fieldsets))
        stamps = tuple(n for n in TIMESTAMPS if hasattr(obj, n) and n not in shown)
        if stamps:
            fieldsets.append((_("Record"), {"fields": [stamps], "classes": ["collapse"]}))
        return fieldsets

    # --- forms -----------------------------------------------------------------------------
    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        found = super().get_inline_formsets(request, formsets, inline_instances, obj)
        for inline_admin_formset in found:
            inline_admin_formset.__class__ = InlineAdminFormSet  # only its add text differs
        return found

    formfield_overrides = {models.JSONField: {"form_class": BoundedJSONField}}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (ServiceLimits, form), {})

    def get_autocomplete_fields(self, request):
        """On an add or change page, a company or branch is chosen by searching (admin
        autocomplete): a plain select would list every company and branch (10,000 and 20,000 at
        the gateway's size: 2 s and megabytes per page). A company given in the add link
        (``?company=<id>``) is shown chosen."""
        fields = list(super().get_autocomplete_fields(request))
        match = getattr(request, "resolver_match", None)
        if match is not None and (match.url_name or "").endswith(("_change", "_add")):
            fields += [
                f.name
                for f in self.opts.concrete_fields
                if f.is_relation and f.related_model in (Company, Branch) and f.name not in fields
            ]
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Branch and "queryset" not in kwargs:
            kwargs["queryset"] = branch_choices_queryset()
            kwargs.setdefault("form_class", BranchChoiceField)
        elif db_field.related_model is Company and "queryset" not in kwargs:
            kwargs["queryset"] = Company.objects.order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- writes through the services ---------------------------------------------------------
    def save_model(self, request, obj, form, change):
        fields = [*form.changed_data] if change else None
        self.save_service(instance=obj, fields=fields)

    def delete_model(self, request, obj):
        services.delete_record(instance=obj)

    def delete_queryset(self, request, queryset):
        services.delete_records(queryset=queryset)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.delete_record(instance=obj)
        inline = getattr(formset, "save_service", services.save_record)
        for obj in formset.new_objects:
            inline(instance=obj, fields=None)
        for obj, changed in formset.changed_objects:
            inline(instance=obj, fields=changed)
        formset.save_m2m()

    # --- history: every change of the row, from every path, newest first ----------------------
    def _deleted_row(self, object_id):
        """A soft-deleted row, or a removed one that has a history (its last recorded name)."""
        model = self.opts.model
        try:
            key = model._meta.pk.to_python(unquote(object_id))
        except ValidationError:  # not a key of this table: no such row
            return None
        row = model._base_manager.filter(pk=key).first()
        if row is None:
            last = object_changes(table=self.opts.db_table, pk=key).first()
            if last is not None:
                row = model(pk=key)
                row.gone, row.last_label = True, last.object_repr
        return row

    def history_view(self, request, object_id, extra_context=None):
        # A deleted row keeps its history: looked up through the base manager, or, removed for
        # real, from the store alone.
        obj = self.get_object(request, unquote(object_id)) or self._deleted_row(object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        changes = object_changes(table=self.opts.db_table, pk=obj.pk)
        label = obj.last_label if getattr(obj, "gone", False) else obj
        paginator = self.get_paginator(request, changes, self.history_per_page)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        rows = change_rows(list(page), user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %s") % label,
            "object_label": label,
            "object_gone": getattr(obj, "gone", False),
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "rows": rows,
            "can_view_operations": request.user.has_perm("changelog.view_operation"),
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_template, context)


class ViewOnly:
    """An admin for rows written elsewhere (by the gateway, an import, a fix): view only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyGatewayAdmin(ViewOnly, GatewayAdmin):
    """Rows the gateway writes while it works (calls, appointments, customers): view only."""

    # Columns not worth showing (e.g. a key the gateway always leaves NULL).
    hidden_columns = ()

    def get_readonly_fields(self, request, obj=None):
        return [
            f.name
            for f in self.opts.concrete_fields
            if f.name not in SECRET_NAMES
            and f.name not in self.hidden_columns
            and not f.primary_key
        ]
