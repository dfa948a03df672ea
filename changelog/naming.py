"""An operation's name as people read it: an admin request by the page it came from
("Telefonnummer geändert"), not by its path ("/admin/integrations_app/phonenumber/…/change/")."""

from django.apps import apps
from django.urls import Resolver404, resolve
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

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


# -- operations named by a key, shown by their label (in the reader's language) ----------------
# A fix run stores its fix's id, an undo the undone operation as "<source>:<name>", a connection
# test of several integrations "integrations:<count>": the key stays in the database, the
# label is made when the name is shown. A name no namer knows is shown as it is.
NAMERS: dict = {}
UNDONE_SEPARATOR = ":"
INTEGRATIONS_PREFIX = "integrations:"


def register_namer(source: str, namer) -> None:
    """``namer(name)`` gives the label of an operation of ``source`` named ``name``, or None
    (an app that owns the names registers it: the fixes, from audit_app)."""
    NAMERS[source] = namer


def undo_name(source: str, name: str) -> str:
    """The name an undo of the operation (``source``, ``name``) stores."""
    return f"{source}{UNDONE_SEPARATOR}{name}"


def integrations_name(count: int) -> str:
    """The name a connection test of ``count`` integrations stores."""
    return f"{INTEGRATIONS_PREFIX}{count}"


def operation_label(source: str, name: str) -> str:
    """The name of an operation of ``source`` for people; ``name`` as it is when unknown."""
    from changelog.models import Source

    if source == Source.UNDO:
        undone, separator, rest = name.partition(UNDONE_SEPARATOR)
        if separator and undone in Source.values and undone != Source.UNDO:
            label = Source(undone).label
            return f"{label}: {operation_label(undone, rest)}" if rest else str(label)
        return name
    if source == Source.CONNECTION_TEST and name.startswith(INTEGRATIONS_PREFIX):
        count = name[len(INTEGRATIONS_PREFIX) :]
        if count.isdigit():
            return ngettext("%(count)d integration", "%(count)d integrations", int(count)) % {
                "count": int(count)
            }
        return name
    if source == Source.ADMIN and name.startswith("/"):
        return admin_page_label(name) or name
    namer = NAMERS.get(source)
    label = namer(name) if namer is not None and name else None
    return str(label) if label else name
