"""default-templates: the appointment confirmation (e-mail) and 24-hour reminder (SMS).

Written in the gateway's template format (semantics.md §5): `subject` and `content` are JSON
objects keyed by language, `de` the fallback; `translations` (NOT NULL) repeats the same texts
per language ({"de": {"subject": ..., "content": ...}, "en": {...}}) so that a reader of either
column finds them; `variables` lists the placeholders used. The texts are data for the
gateway's customers, so they are fixed German and English, whatever the console's language.
An existing template (UNIQUE company, key, channel) is never touched.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.fixes.common import APP
from audit_app.registry import Affected
from integrations_app.models import Company, NotificationTemplate
from integrations_app.services import create_rows

_DATE = "{date:date(d.m.Y)}"

DEFAULT_TEMPLATES = (
    {
        "key": "appointment_confirmation",
        "channel": "email",
        "name": "Terminbestätigung",
        "type": "appointment",
        "subject": {
            "de": f"Terminbestätigung für den {_DATE} um {{time}}",
            "en": f"Appointment confirmation for {_DATE} at {{time}}",
        },
        "content": {
            "de": (
                "Hallo {name},\n\n"
                f"Ihr Termin am {_DATE} um {{time}} Uhr ist bestätigt.\n\n"
                "Falls Sie den Termin nicht wahrnehmen können, sagen Sie bitte rechtzeitig ab.\n\n"
                "Wir freuen uns auf Sie."
            ),
            "en": (
                "Hello {name},\n\n"
                f"your appointment on {_DATE} at {{time}} is confirmed.\n\n"
                "If you cannot make it, please cancel in good time.\n\n"
                "We look forward to seeing you."
            ),
        },
        "variables": ["name", "date", "time"],
    },
    {
        "key": "appointment_reminder_24h",
        "channel": "sms",
        "name": "Terminerinnerung (24 Stunden vorher)",
        "type": "appointment",
        "subject": None,  # an SMS has no subject
        "content": {
            "de": (
                f"Hallo {{name}}, wir erinnern Sie an Ihren Termin morgen, {_DATE}, "
                "um {time} Uhr."
            ),
            "en": f"Hello {{name}}, a reminder of your appointment tomorrow, {_DATE}, at {{time}}.",
        },
        "variables": ["name", "date", "time"],
    },
)


def _translations(spec: dict) -> dict:
    languages = spec["content"].keys()
    return {
        language: {
            **({"subject": spec["subject"][language]} if spec["subject"] else {}),
            "content": spec["content"][language],
        }
        for language in languages
    }


@register_fix
class DefaultTemplates(Fix):
    id = "default-templates"
    per_company = True
    check_id = "AUD-NTF-001"
    title = gettext_lazy("Add the default appointment confirmation and reminder templates")
    description = gettext_lazy(
        "Creates an active German and English appointment confirmation (e-mail) and 24-hour "
        "reminder (SMS) template for each company that lacks one. Existing templates are left "
        "as they are."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        wanted = {(spec["key"], spec["channel"]) for spec in DEFAULT_TEMPLATES}
        existing = {}
        for template in NotificationTemplate.objects.filter(
            key__in={k for k, _c in wanted}, channel__in={c for _k, c in wanted}
        ).only("id", "company_id", "key", "channel", "is_active"):
            existing[(template.company_id, template.key, template.channel)] = template
        for company in Company.objects.order_by("pk").only("id", "name"):
            for spec in DEFAULT_TEMPLATES:
                found = existing.get((company.pk, spec["key"], spec["channel"]))
                if found is not None:
                    if not found.is_active:
                        plan.needs_person.append(
                            Affected(
                                table="notification_templates",
                                pk=found.pk,
                                label=f"{company.name}: {spec['key']} ({spec['channel']})",
                                detail=_(
                                    "an inactive template exists: activate or edit it, "
                                    "the fix never changes a template"
                                ),
                                admin=(APP, "notificationtemplate"),
                            )
                        )
                    continue
                plan.writes.append(
                    PlannedWrite(
                        table="notification_templates",
                        action="create",
                        description=_("Template %(key)s (%(channel)s) for %(company)s")
                        % {"key": spec["key"], "channel": spec["channel"], "company": company.name},
                        key=f"{spec['key']}-{spec['channel']}-for-company-{company.pk}",
                        company_id=company.pk,
                        company_name=company.name,
                        after={
                            "company_id": company.pk,
                            **spec,
                            "translations": _translations(spec),
                            "is_active": True,
                        },
                    )
                )
        return plan

    def write(self, plan: Plan) -> None:
        create_rows(rows=[NotificationTemplate(**write.after) for write in plan.writes])
