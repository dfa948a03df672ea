"""Admin of companies and what routes and books for them: branches, staff, services, numbers."""

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ExportForm

from integrations_app import selectors, services
from integrations_app.admin import company_page
from integrations_app.admin.base import (
    GatewayAdmin,
    count_of,
    missing_reference,
    related_or_missing,
)
from integrations_app.admin.forms import (
    InlinePhoneNumberForm,
    PhoneNumberForm,
    PhoneNumberInlineFormSet,
)
from integrations_app.admin.key_panel import integration_state, key_resolution_panel
from integrations_app.admin.labelled import value_display
from integrations_app.admin.number_search import NumberSearch, company_condition
from integrations_app.admin.phone_branches import BranchesOfCompany
from integrations_app.admin.phone_export import PhoneExportMixin
from integrations_app.admin.phone_import import PhoneImportAdminMixin
from integrations_app.admin.routing import RoutingAdminMixin
from integrations_app.admin.scale import (
    CompanyFilter,
    IndexedValuesFilter,
    PrefixSearch,
    RelatedByPrefetch,
)
from integrations_app.models import Branch, Company, PhoneNumber, Service, Staff
from integrations_app.phone_import.resource import PhoneNumberResource
from integrations_app.roles import EXPORT_PHONE_NUMBERS

COMPANY_FILTER = ("company", CompanyFilter)


class GatewayInline(admin.TabularInline):
    extra = 0
    # A company page shows at most this many rows of an inline (the first by its order; the
    # rest are in the changelist, linked): a company with hundreds of numbers would render
    # a select of its branches per row, seconds and megabytes of HTML.
    max_rows = 10
    show_change_link = True
    save_service = staticmethod(services.save_record)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.save_service = staticmethod(self.save_service)
        return formset


class BranchInline(GatewayInline):
    model = Branch
    fields = ("name", "city", "is_active")


class PhoneNumberInline(GatewayInline):
    model = PhoneNumber
    form = InlinePhoneNumberForm
    formset = PhoneNumberInlineFormSet
    fields = ("number", "branch", "type", "is_active", "is_primary")
    save_service = staticmethod(services.save_phone_number)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        branch = formset.form.base_fields.get("branch")
        if branch is not None:
            # Only this company's branches; listed once for all forms, not once per form.
            branches = Branch.objects.filter(company_id=obj.pk if obj else None).order_by("name")
            branch.queryset = branches
            branch.choices = [("", "---------"), *((b.pk, b.name) for b in branches)]
        return formset


class CountColumns:
    """List columns for the counts that get_queryset() annotates (no query per row)."""

    @admin.display(description=_("phone numbers"), ordering="phone_number_count")
    def phone_number_count(self, obj):
        return obj.phone_number_count

    @admin.display(description=_("staff"), ordering="staff_count")
    def staff_count(self, obj):
        return obj.staff_count


@admin.register(Company)
class CompanyAdmin(PrefixSearch, CountColumns, GatewayAdmin):
    list_display = (
        "name",
        "city",
        "is_active",
        "billing",
        "calcom_state",
        "retell_state",
        # One column for the three counts, no creation time: the list fits beside the
        # navigation and the filters at 1280 px (walkthrough 2); both are on the company page.
        "counted",
    )
    list_filter = (
        "is_active",
        "billing_status",
        "retell_enabled",
        ("country", IndexedValuesFilter),
    )
    search_fields = ("name", "=slug", "email", "city", "contact_person")
    search_company = False
    search_help_text = _(
        "The start of a name, e-mail, city or contact person, the slug, one of the company's "
        "phone numbers (as written, or its last 6 or more digits) or a Retell agent id."
    )

    def search_condition(self, request, text):
        # Also by one of its numbers or a Retell agent id (admin/number_search.py).
        return super().search_condition(request, text) | company_condition(request, text)

    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "email", "phone", "contact_person", "industry")}),
        (_("Address"), {"fields": ("address", "postal_code", "city", "country")}),
        (
            _("Settings"),
            {"fields": ("timezone", "default_language", "is_active", "active", "billing_status")},
        ),
        (
            _("Cal.com"),
            {
                "fields": (
                    "calcom_team_slug",
                    "calcom_team_id",
                    "calcom_event_type_id",
                    "event_types_vs_services",
                )
            },
        ),
        (_("Retell"), {"fields": ("retell_agent_id", "retell_enabled")}),
        (_("Keys the gateway uses"), {"fields": ("key_resolution",)}),
    )
    readonly_fields = (
        "key_resolution",
        "event_types_vs_services",
        "calcom_team_slug",
        "calcom_team_id",
        "calcom_event_type_id",
        "retell_agent_id",
    )
    inlines = (BranchInline, PhoneNumberInline)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        limit = getattr(inline, "max_rows", None)
        if obj is None or obj.pk is None or limit is None:
            return kwargs
        rows = kwargs["queryset"].filter(company_id=obj.pk)
        keys = list(rows.values_list("pk", flat=True)[: limit + 1])
        if len(keys) > limit and request.method == "GET":
            model = inline.model
            opts = model._meta
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            messages.info(
                request,
                format_html(
                    _('{name}: the first {limit} are shown here; <a href="{url}">all of them</a>.'),
                    name=capfirst(opts.verbose_name_plural),
                    limit=limit,
                    url=f"{url}?company__id__exact={obj.pk}",
                ),
            )
        if len(keys) > limit:
            kwargs["queryset"] = kwargs["queryset"].filter(pk__in=keys[:limit])
        return kwargs

    def get_queryset(self, request):
        return selectors.with_integration_state(super().get_queryset(request)).annotate(
            branch_count=count_of(Branch),
            phone_number_count=count_of(PhoneNumber),
            staff_count=count_of(Staff),
        )

    # The billing status by its label under a shorter heading than "Abrechnungsstatus".
    billing = staticmethod(
        admin.display(description=_("billing"), ordering="billing_status")(
            value_display(Company._meta.get_field("billing_status"))
        )
    )

    @admin.display(description=_("branches, phone numbers, staff"))
    def counted(self, obj):
        """„1 Filiale“, „2 Telefonnummern“, „3 Mitarbeiter“, each linked to its list (no query)."""
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{} {}</a>',
            ((line.url, line.count, line.label) for line in company_page.counts(obj)),
        )

    @admin.display(description=_("Cal.com"))
    def calcom_state(self, obj):
        return integration_state(obj, "calcom")

    @admin.display(description=_("Retell"))
    def retell_state(self, obj):
        return integration_state(obj, "retell")

    @admin.display(description=_("which key a call or a booking uses"))
    def key_resolution(self, obj):
        return key_resolution_panel(obj)

    @admin.display(description=_("event types ↔ services"))
    def event_types_vs_services(self, obj):
        from integrations_app.reconcile_calcom import company_panel

        return company_panel(obj.pk) if obj and obj.pk else "—"

    @admin.display(description=_("branches"), ordering="branch_count")
    def branch_count(self, obj):
        return obj.branch_count

    # --- the change page: the place to configure a company (admin/company_page.py) -----------
    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault("help_texts", company_page.FLAG_HELP)  # what sets each flag
        return super().get_form(request, obj, change, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(company_page.context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Branch)
class BranchAdmin(RelatedByPrefetch, PrefixSearch, CountColumns, GatewayAdmin):
    list_display = (
        "name",
        "company",
        "city",
        "is_active",
        "active",
        "phone_number_count",
        "staff_count",
    )
    # Read in the branches' own order (idx_branches_company_name), the companies prefetched.
    prefetch = ("company",)
    list_filter = ("is_active", "active", COMPANY_FILTER)
    search_fields = ("name", "=slug", "city", "company__name")
    ordering = ("company_id", "name", "id")
    fields = (
        "company",
        "name",
        "slug",
        ("address", "postal_code", "city", "country"),
        ("phone_number", "notification_email"),
        "retell_agent_id",
        ("is_active", "active"),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                phone_number_count=count_of(PhoneNumber, "branch"),
                staff_count=count_of(Staff, "branch"),
            )
        )


@admin.register(Staff)
class StaffAdmin(RelatedByPrefetch, PrefixSearch, GatewayAdmin):
    # staff.branch_id is NOT NULL without a foreign key: it may name no branch. A join on it
    # would drop such staff from the list, so the branch is read by subqueries instead.
    list_display = (
        "name",
        "company",
        "branch_column",
        "email",
        "is_active",
        "is_bookable",
        "calcom_user_id",
    )
    prefetch = ("company",)
    list_filter = ("is_active", "is_bookable", "active", COMPANY_FILTER)
    search_fields = ("name", "=email", "phone", "=calcom_user_id", "company__name")
    number_columns = ("phone",)
    ordering = ("name", "id")
    fields = (
        "company",
        "branch",
        "home_branch",
        "name",
        ("email", "phone"),
        ("is_active", "active", "is_bookable"),
        "calcom_user_id",
    )

    def get_queryset(self, request):
        branch = Branch.all_objects.filter(pk=OuterRef("branch_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                branch_name=Subquery(branch.values("name")[:1]),
                branch_deleted_at=Subquery(branch.values("deleted_at")[:1]),
            )
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if (
            obj is not None
            and getattr(obj, "branch_name", "") is None
            and "branch" in form.base_fields
        ):
            form.base_fields["branch"].help_text = _(
                "The branch this row names (%(key)s) does not exist: choose one."
            ) % {"key": obj.branch_id}
        return form

    @admin.display(description=_("branch"), ordering="branch_name")
    def branch_column(self, obj):
        if obj.branch_name is None:
            return missing_reference(obj.branch_id)
        if obj.branch_deleted_at is not None:
            return _("%(name)s (deleted)") % {"name": obj.branch_name}
        return obj.branch_name


@admin.register(Service)
class ServiceAdmin(RelatedByPrefetch, PrefixSearch, GatewayAdmin):
    list_display = (
        "name",
        "company",
        "branch_column",
        "category",
        "duration_minutes",
        "price",
        "is_active",
        "calcom_event_type_id",
    )
    prefetch = ("company", "branch")
    list_filter = ("is_active", COMPANY_FILTER)
    search_fields = ("name", "category", "=calcom_event_type_id", "company__name")
    ordering = ("company_id", "name", "id")
    fields = (
        "company",
        "branch",
        "name",
        "description",
        "category",
        ("duration_minutes", "price"),
        "is_active",
        "calcom_event_type_id",
    )

    @admin.display(description=_("branch"), ordering="branch__name")
    def branch_column(self, obj):
        return related_or_missing(obj, "branch")


@admin.register(PhoneNumber)
class PhoneNumberAdmin(
    NumberSearch,
    BranchesOfCompany,
    RoutingAdminMixin,
    PhoneImportAdminMixin,
    PhoneExportMixin,
    ExportMixin,
    GatewayAdmin,
):
    form = PhoneNumberForm
    # Import: the pages of PhoneImportAdminMixin (stored preview, then confirm); export:
    # django-import-export with the same columns, every cell neutralised (resource.py),
    # streamed by keyset on the unique number (export.py): memory does not grow with the rows;
    # CSV for Excel in the user's language, a file name saying what it holds (phone_export.py).
    resource_classes = [PhoneNumberResource]
    export_key = "number"
    export_form_class = ExportForm
    import_export_change_list_template = "admin/integrations_app/phonenumber/change_list.html"
    save_service = staticmethod(services.save_phone_number)
    # Six columns fit beside the filters at 1280 px: the label and a number_normalized that
    # differs from the number (a gap the gateway routes badly by) are in the number's cell.
    list_display = (
        "number_column",
        "company_column",
        "branch_column",
        "type",
        "is_active",
        "is_primary",
    )
    list_display_links = ("number_column",)
    list_select_related = ("company", "branch")
    list_filter = ("type", "is_active", "is_primary", COMPANY_FILTER)
    # A number as people write it, normalised like the data, or its last digits; else the
    # start of a label, of the number as stored, of a branch's or company's name
    # (admin/number_search.py).
    search_fields = ("number", "label", "branch__name", "company__name")
    search_help_text = _(
        "A number as written (“030 555 9911”, “+49 30 5559911”) or its last 6 or more "
        "digits, or the start of a label, branch name or company name."
    )
    ordering = ("number",)
    fieldsets = (
        (None, {"fields": ("company", "branch", "number", "type", "label", "description")}),
        (_("Routing"), {"fields": ("number_normalized", "phone_number", "country_code")}),
        (_("State"), {"fields": ("is_active", "is_primary")}),
        (_("Retell"), {"fields": ("retell_phone_id", "retell_agent_id")}),
    )
    readonly_fields = ("number_normalized", "phone_number")

    def get_export_formats(self):
        return [CSV, XLSX]

    def has_export_permission(self, request):
        return self.has_view_permission(request) and request.user.has_perm(EXPORT_PHONE_NUMBERS)

    @admin.display(description=_("company"), ordering="company__name")
    def company_column(self, obj):
        return related_or_missing(obj, "company")

    @admin.display(description=_("branch"), ordering="branch__name")
    def branch_column(self, obj):
        return related_or_missing(obj, "branch")

    @admin.display(description=_("number"), ordering="number")
    def number_column(self, obj):
        """The number; under it its label, and its E.164 form when that is not the number."""
        label = (
            format_html('<br><span class="askpro-number-label">{}</span>', obj.label)
            if obj.label
            else ""
        )
        e164 = ""
        if obj.number_normalized != obj.number:
            e164 = format_html(
                '<br><span class="askpro-number-gap">{}: {}</span>',
                capfirst(PhoneNumber._meta.get_field("number_normalized").verbose_name),
                obj.number_normalized or "—",
            )
        return format_html("{}{}{}", obj.number, label, e164)
