from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditAppConfig(AppConfig):
    name = "audit_app"
    verbose_name = _("Gateway readiness")
    default_auto_field = "django.db.models.BigAutoField"
