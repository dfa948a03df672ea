from collections.abc import Mapping

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditAppConfig(AppConfig):
    name = "audit_app"
    verbose_name = _("Gateway readiness")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from changelog.models import Source
        from changelog.naming import register_namer
        from integrations_app import labels

        # A fix run's operation stores the fix's id, and so does the record of an applied fix:
        # people read the fix's title (an id no fix has any more is shown as it is).
        register_namer(Source.FIX, fix_title)
        labels.VALUES[("audit_app_fixrecord", "fix_id")] = FixTitles()


def fix_title(fix_id: str):
    """The title of the registered fix ``fix_id``, or None for an id no fix has (any more)."""
    from audit_app.fixes.base import get_fix  # the fixes import the models: not at import

    fix = get_fix(fix_id)
    return fix.title if fix is not None else None


class FixTitles(Mapping):
    """{fix id: title} of the registered fixes, read when asked (the fixes load lazily)."""

    def _titles(self) -> dict:
        from audit_app.fixes.base import all_fixes

        return {fix.id: fix.title for fix in all_fixes()}

    def __getitem__(self, fix_id):
        return self._titles()[fix_id]

    def __iter__(self):
        return iter(self._titles())

    def __len__(self) -> int:
        return len(self._titles())
