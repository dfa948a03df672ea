"""The branch field of the phone-number form offers the chosen company's branches only.

Server side, `PhoneNumberForm` lists them and refuses another company's branch
(admin/forms.py). In the page, console.js reloads the list when the company changes, from the
small JSON endpoint here (``…/phonenumber/branches/?company=<id>``): the branches' keys and
names, nothing else, for a user who may add or change phone numbers; it chooses the branch
when the company has exactly one. The branch is a plain select on the change page too (not
the admin's autocomplete, which would search every company's branches).
"""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from integrations_app.admin.forms import company_branches

BRANCHES_URL_ATTR = "data-askpro-branches"


class BranchesOfCompany:
    """Adds the endpoint and points the branch select at it."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "branches/",
                self.admin_site.admin_view(self.branches_view),
                name="{}_{}_branches".format(*info),
            ),
            *super().get_urls(),
        ]

    def branches_view(self, request):
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        text = request.GET.get("company", "").strip()
        if not (text.isascii() and text.isdigit() and len(text) < 19):
            return JsonResponse({"error": _("Choose a company.")}, status=400)
        branches = company_branches(int(text))
        return JsonResponse({"branches": [{"id": b.pk, "name": b.name} for b in branches]})

    def get_autocomplete_fields(self, request):
        return [name for name in super().get_autocomplete_fields(request) if name != "branch"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "branch" and field is not None:
            info = self.opts.app_label, self.opts.model_name
            url = reverse("admin:{}_{}_branches".format(*info), current_app=self.admin_site.name)
            field.widget.attrs[BRANCHES_URL_ATTR] = url
        return field
