"""An operation's name as people read it: an admin request by the page it came from
("Telefonnummer geändert"), not by its path ("/admin/integrations_app/phonenumber/…/change/")."""

from django.apps import apps
from django.urls import Resolver404, resolve
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

# What an admin page's writes did, by the end of its URL name ("<app>_<model>_<view>").
VIEWS = {
    "add": _("%(model)s added"),
    "change": _("%(model)s changed"),
    "delete": _("%(model)s deleted"),
    "changelist": _("%(models)s: action on the list"),
    "phone_import_confirm": _("%(models)s: import"),
}


def _model_and_view(url_name: str):
    for model in apps.get_models():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if url_name.startswith(prefix):
            return model, url_name[len(prefix) :]
    return None, ""


def admin_page_label(path: str) -> str | None:
    """The label of the admin page at ``path``, or None when it names no model's page."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    model, view = _model_and_view(match.url_name or "")
    if model is None:
        return None
    names = {
        "model": capfirst(model._meta.verbose_name),
        "models": capfirst(model._meta.verbose_name_plural),
    }
    text = VIEWS.get(view)
    return str(text % names) if text is not None else names["models"]
