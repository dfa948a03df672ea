"""The global history: every operation (a request, an import, a fix run, an undo, a rotation,
a connection test, a command) and every row it wrote, read from the one change store.

Filterable by user, company, table, source and date; an operation's page lists every row it
wrote and, for an import or a fix run, offers the undo (Manager's).
"""

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from changelog.models import Change, Operation
from changelog.selectors import operation_changes
from integrations_app.admin.base import ViewOnly
from integrations_app.admin.history import MODELS_BY_TABLE, change_rows, object_url, table_label
from integrations_app.admin.undo import undo_view
from integrations_app.ids import parse_id
from integrations_app.labels import local_time
from integrations_app.models import Company
from integrations_app.services.undo import UNDOABLE

PAGE = 200


class CompanyFilter(admin.SimpleListFilter):
    """The company a changed row belongs to (its own key for a company row)."""

    title = _("company")
    parameter_name = "company"
    shown = 100  # the sidebar stays small with thousands of companies; the rest by ?company=<id>

    def lookups(self, request, model_admin):
        chosen = parse_id(self.value() or "")
        companies = list(
            Company.all_objects.order_by("name").values_list("pk", "name")[: self.shown]
        )
        if chosen is not None and chosen not in {pk for pk, _n in companies}:
            companies += list(Company.all_objects.filter(pk=chosen).values_list("pk", "name"))
        return [(str(pk), name) for pk, name in companies]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        company_id = parse_id(value)
        if company_id is None:
            return queryset.none()
        prefix = "changes__" if queryset.model is Operation else ""
        found = queryset.filter(**{f"{prefix}company_id": company_id})
        return found.distinct() if prefix else found


class TableFilter(admin.SimpleListFilter):
    title = _("table")
    parameter_name = "table"

    def lookups(self, request, model_admin):
        return sorted(((t, table_label(t)) for t in MODELS_BY_TABLE), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(table=self.value()) if self.value() else queryset


def _change_count():
    rows = (
        Change.objects.filter(operation=OuterRef("pk"))
        .order_by()
        .values("operation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@admin.register(Operation)
class OperationAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ("started_at", "user", "source", "operation_name", "reason", "rows_written")
    list_filter = ("source", ("started_at", DateFieldListFilter), "user", CompanyFilter)
    list_select_related = ("user",)
    search_fields = ("name", "reason", "=cid")
    show_full_result_count = False
    change_form_template = "admin/changelog/operation.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rows=_change_count())

    @admin.display(description=_("operation"), ordering="name")
    def operation_name(self, obj):
        return obj.display_name

    @admin.display(description=_("rows written"), ordering="rows")
    def rows_written(self, obj):
        url = reverse("admin:changelog_change_changelist") + f"?operation__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.rows)

    def get_urls(self):
        undo = self.admin_site.admin_view(
            lambda request, object_id: undo_view(self, request, object_id)
        )
        return [
            path("<path:object_id>/undo/", undo, name="changelog_operation_undo"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        op = self.get_object(request, object_id)
        if op is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, op):
            raise PermissionDenied
        changes = operation_changes(operation=op).select_related("operation")
        page = self.get_paginator(request, changes, PAGE).get_page(request.GET.get("p", 1))
        undone_by = Operation.objects.filter(undo_of=op).first()
        context = {
            **self.admin_site.each_context(request),
            "title": str(op),
            "opts": self.opts,
            "operation": op,
            "rows": change_rows(list(page), user=request.user),
            "page_obj": page,
            "page_range": page.paginator.get_elided_page_range(page.number),
            "undone_by": undone_by,
            "can_undo": op.source in UNDOABLE
            and undone_by is None
            and request.user.has_perm("changelog.undo_operation"),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)


class CapitalisedChoicesFilter(admin.ChoicesFieldListFilter):
    """The choices' labels as list labels ("Created", „Angelegt“), the stored value in the URL."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            yield {**choice, "display": capfirst(choice["display"])}


@admin.register(Change)
class ChangeAdmin(ViewOnly, admin.ModelAdmin):
    list_display = (
        "time",
        "user",
        "operation_link",
        "table_name",
        "object_link",
        "company_name",
        "action_name",
    )
    list_filter = (
        "operation__source",
        ("operation__started_at", DateFieldListFilter),
        "operation__user",
        CompanyFilter,
        TableFilter,
        ("action", CapitalisedChoicesFilter),
    )
    list_select_related = ("operation", "operation__user")
    search_fields = ("=object_pk", "object_repr")
    show_full_result_count = False
    list_per_page = 100
    # The record of one change, as people read it: the table's name, the company's name, each
    # column's label and values (never the stored JSON).
    fields = (
        "operation_link",
        "time",
        "user",
        "table_name",
        "object_link",
        "action_name",
        "company_name",
        "columns",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The company's name in the same query as the page's rows (a subquery on its key):
        # no query per row, whatever the page.
        name = Company.all_objects.filter(pk=OuterRef("company_id")).values("name")[:1]
        return super().get_queryset(request).annotate(company_label=Subquery(name))

    def lookup_allowed(self, lookup, value, request=None):
        # The operation page's "rows written" link filters by the operation.
        return lookup == "operation__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("time"), ordering="operation__started_at")
    def time(self, obj):
        return local_time(obj.operation.started_at)  # a record page shows it as text

    @admin.display(description=_("user"))
    def user(self, obj):
        return obj.operation.user or "—"

    @admin.display(description=_("operation"))
    def operation_link(self, obj):
        url = reverse("admin:changelog_operation_change", args=[obj.operation_id])
        return format_html('<a href="{}">{}</a>', url, obj.operation)

    @admin.display(description=_("table"), ordering="table")
    def table_name(self, obj):
        return table_label(obj.table)

    @admin.display(description=_("object"))
    def object_link(self, obj):
        url = object_url(obj)
        if url is None:
            return obj.object_repr
        return format_html('<a href="{}">{}</a>', url, obj.object_repr or obj.object_pk)

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, obj):
        return capfirst(obj.get_action_display())

    @admin.display(description=_("company"))
    def company_name(self, obj):
        if obj.company_id is None:
            return None
        return getattr(obj, "company_label", None) or obj.company_id  # a company gone: its key

    @admin.display(description=_("Before → after"))
    def columns(self, obj):
        rows = change_rows([obj])
        return render_to_string(
            "admin/integrations_app/change_columns.html", {"columns": rows[0]["columns"]}
        )
