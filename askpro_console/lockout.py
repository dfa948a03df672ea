"""The page a locked-out login gets: the admin's look, the user's language, how long it lasts."""

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse


def locked_out(request, original_response=None, credentials=None):
    context = {
        **admin.site.each_context(request),
        "cooloff_minutes": round(settings.AXES_COOLOFF_MINUTES),
        "username": (credentials or {}).get("username", ""),
    }
    # 429 Too Many Requests, as django-axes answers by default.
    return TemplateResponse(request, "admin/locked_out.html", context, status=429).render()
