"""The console's 403, 404 and 500 pages: the admin's look and the user's language.

Django's defaults are bare English pages ("403 Forbidden"); a read-only user who follows a link to
a write page should read, in German, that their role does not allow it and how to go on.
"""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.views.decorators.csrf import requires_csrf_token


def _page(request, template: str, status: int) -> TemplateResponse:
    context = admin.site.each_context(request) if hasattr(request, "user") else {}
    return TemplateResponse(request, template, context, status=status).render()


@requires_csrf_token
def permission_denied(request, exception=None):
    return _page(request, "403.html", 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _page(request, "404.html", 404)
