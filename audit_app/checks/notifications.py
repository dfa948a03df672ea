"""Notifications: the templates the gateway's appointment workflows send (semantics.md §5)."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import company_row
from audit_app.checks.queried import QueryCheck
from audit_app.registry import Affected, Category, Severity, register
from integrations_app.labels import CHANNELS
from integrations_app.models import Company, NotificationTemplate

# (key, channel) of the templates every company needs, as the gateway's workflows look them up.
REQUIRED_TEMPLATES = (
    ("appointment_confirmation", "email"),
    ("appointment_reminder_24h", "sms"),
)
# The required templates for people (a row's detail), not by their keys.
TEMPLATE_NAMES = {
    "appointment_confirmation": gettext_lazy("appointment confirmation"),
    "appointment_reminder_24h": gettext_lazy("reminder 24 hours ahead"),
}


@register
class MissingTemplates(QueryCheck):
    id = "AUD-NTF-001"
    severity = Severity.WARNING
    category = Category.NOTIFICATIONS
    title = gettext_lazy("Callers get no booking confirmation or reminder")
    explanation = gettext_lazy(
        "After a booking the gateway sends the caller a confirmation by e-mail and, a day "
        "before the appointment, a reminder by text message, each from the company's template. "
        "These companies have no such template: their callers get neither."
    )
    detail = gettext_lazy(
        "After a booking the gateway sends the company's active notification template with key "
        "appointment_confirmation on the e-mail channel, and a day before the appointment the "
        "one with key appointment_reminder_24h by SMS. Without an active template for "
        "(company, key, channel) nothing is sent: the caller gets no confirmation and no "
        "reminder."
    )
    hint = gettext_lazy(
        "Add the templates in the notification template admin (the fix writes German and "
        "English defaults in the gateway's format)."
    )
    fix_id = "default-templates"

    def affected(self):
        annotations = {
            f"has_{index}": Exists(
                NotificationTemplate.objects.filter(
                    company=OuterRef("pk"), key=key, channel=channel, is_active=True
                )
            )
            for index, (key, channel) in enumerate(REQUIRED_TEMPLATES)
        }
        lacking = Q()
        for name in annotations:
            lacking |= Q(**{name: False})
        return (
            Company.objects.annotate(**annotations)
            .filter(lacking)
            .order_by("name", "id")
            .values("id", "name", *annotations)
        )

    def finding(self, row) -> Affected:
        missing = [
            f"{TEMPLATE_NAMES[key]} ({CHANNELS[channel]})"
            for index, (key, channel) in enumerate(REQUIRED_TEMPLATES)
            if not row[f"has_{index}"]
        ]
        return company_row(
            row, _("no active template: %(templates)s") % {"templates": ", ".join(missing)}
        )
