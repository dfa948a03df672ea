"""The "Where does this call go?" page: a read-only view on the phone numbers' admin.

``RoutingAdminMixin`` adds ``route/`` to the PhoneNumber admin (URL name
``admin:integrations_app_phonenumber_route``); anyone who may view phone numbers may use it.
A GET form (number, optional agent id); the answer comes from integrations_app/routing.py.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from integrations_app import routing


class RouteForm(forms.Form):
    number = forms.CharField(
        label=_("Called number"),
        max_length=64,
        help_text=_("In any written form, e.g. +49 30 1234567, 030/123 45 67 or 0049301234567."),
    )
    agent = forms.CharField(
        label=_("Retell agent id"),
        max_length=255,
        required=False,
        help_text=_("Optional: the agent the call comes from (agent_…)."),
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["route"] = routing.explain(data.get("number"), data.get("agent"))
        except routing.RouteInputError as error:
            raise forms.ValidationError(str(error)) from None
        return data


class RoutingAdminMixin:
    """Adds the routing page to a ModelAdmin (the PhoneNumber admin)."""

    routing_template = "admin/integrations_app/routing/route.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "route/",
                self.admin_site.admin_view(self.routing_view),
                name="{}_{}_route".format(*info),
            ),
            *super().get_urls(),
        ]

    def routing_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RouteForm(request.GET or None)
        route = form.cleaned_data["route"] if form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Where does this call go?"),
            "subtitle": None,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "has_view_permission": True,
            "form": form,
            "route": route,
        }
        return TemplateResponse(request, self.routing_template, context)
