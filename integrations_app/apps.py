from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsAppConfig(AppConfig):
    name = "integrations_app"
    verbose_name = _("Gateway data")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin
        from django.db.models.signals import post_migrate

        from integrations_app import checks  # noqa: F401 (registers itself)
        from integrations_app.admin.lookups import guard_site
        from integrations_app.roles import create_custom_permissions

        # Every admin is registered by now (django.contrib.admin is the first app): none may
        # run a regex or an overflowing number from a URL (admin/lookups.py).
        guard_site(admin.site)

        # The custom permissions of the roles (integrations_app/roles.py), after every migrate.
        post_migrate.connect(create_custom_permissions, sender=self)
