"""The console's 403, 404 and 500 pages: the admin's look and the user's language.

Django's defaults are bare English pages ("403 Forbidden"); a read-only user who follows a link to
a write page should read, in German, that their role does not allow it and how to go on.
"""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.views.decorators.csrf import requires_csrf_token

from integrations_app import roles

# The roles that may write, in the order the advice names them.
WRITING_ROLES = (roles.SUPPORT, roles.MANAGER)


def _page(request, template: str, status: int, **extra) -> TemplateResponse:
    context = admin.site.each_context(request) if hasattr(request, "user") else {}
    return TemplateResponse(request, template, context | extra, status=status).render()


def _roles_of(user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(user.groups.order_by("name").values_list("name", flat=True))


@requires_csrf_token
def permission_denied(request, exception=None):
    # The advice names the user's roles and only the roles they lack: a Support account
    # refused a Manager page is told to ask for Manager, not for the role it has.
    own = _roles_of(getattr(request, "user", None))
    others = [role for role in WRITING_ROLES if role not in own]
    return _page(request, "403.html", 403, own_roles=own, other_roles=others)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _page(request, "404.html", 404)
