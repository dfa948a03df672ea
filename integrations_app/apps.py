from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsAppConfig(AppConfig):
    name = "integrations_app"
    verbose_name = _("Gateway data")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations_app import checks  # noqa: F401 (registers itself)
