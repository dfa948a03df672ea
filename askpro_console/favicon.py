"""GET /favicon.ico: the console's icon where browsers look for it without being told.

Admin pages name their icon (``<link rel="icon">`` in templates/admin/base_site.html); every
other address a browser opens (/, /health/, an error page) still asks for /favicon.ico, and a
404 there is noise in every access log. Served from the app's static directory, so it answers
the same with or without collectstatic; no login, no database.
"""

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = "console/favicon.ico"


@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request):
    path = finders.find(ICON)
    if not path:
        raise Http404(ICON)
    return FileResponse(open(path, "rb"), content_type="image/x-icon")
