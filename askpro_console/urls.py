from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from askpro_console.favicon import favicon
from askpro_console.health import health
from audit_app.metrics import metrics_view

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("health/", health, name="health"),
    path("favicon.ico", favicon, name="favicon"),
]

handler403 = "askpro_console.error_pages.permission_denied"
handler404 = "askpro_console.error_pages.page_not_found"
