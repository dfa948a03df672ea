"""Event types ↔ services (semantics.md §3b), from the last `manage.py reconcile_calcom`.

The checks never call Cal.com: they read the stored reconciliation (one query). Without one, or
when no company's Cal.com could be read, they are "not available", never "ok"; a company whose
Cal.com could not be read is listed with the reason.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import APP, COMPANY_ADMIN
from audit_app.registry import (
    Affected,
    Category,
    Check,
    CheckUnavailable,
    Severity,
    register,
    shared,
)
from integrations_app import reconcile_calcom as rc
from integrations_app.labels import local_time

SERVICE_ADMIN = (APP, "service")
FIX_ID = "sync-calcom-services"


def stored_reconciliation() -> list:
    """The stored comparison; read once per audit run (five checks read it)."""
    return shared(("reconciliation", rc.KIND), _stored_reconciliation)


def _stored_reconciliation() -> list:
    from audit_app.models import ProviderReconciliation

    return list(ProviderReconciliation.objects.filter(kind=rc.KIND).order_by("company_name", "pk"))


class _EventTypeCheck(Check):
    category = Category.BOOKINGS
    finding_kind = ""

    def find(self) -> list[Affected]:
        stored = stored_reconciliation()
        if not stored and not shared(("configured", rc.KIND), rc.companies_configured):
            return []  # no company has a Cal.com key or team: nothing to compare
        if not stored:
            raise CheckUnavailable(
                _(
                    "Cal.com has not been compared yet (no company with a Cal.com key, or "
                    "manage.py reconcile_calcom has not run)"
                )
            )
        if not any(row.available for row in stored):
            raise CheckUnavailable(
                _("Cal.com could not be read for any company: %(reasons)s")
                % {"reasons": "; ".join(f"{r.company_name}: {r.reason}" for r in stored)}
            )
        found = []
        for row in stored:
            when = local_time(row.checked_at)
            if not row.available:
                found.append(
                    Affected(
                        table="companies",
                        pk=row.company_id,
                        label=row.company_name,
                        detail=_("not available (%(when)s): %(reason)s")
                        % {"when": when, "reason": row.reason},
                        admin=COMPANY_ADMIN,
                    )
                )
                continue
            for finding in row.findings:
                if finding.get("kind") == self.finding_kind:
                    found.append(self.affected(row, finding, when))
        return found

    def affected(self, row, finding: dict, when: str) -> Affected:
        detail = _("%(finding)s (compared %(when)s)") % {
            "finding": rc.finding_text(finding),
            "when": when,
        }
        if finding.get("service_id"):
            return Affected(
                table="services",
                pk=finding["service_id"],
                label=f"{finding.get('service_name')} ({row.company_name})",
                detail=detail,
                admin=SERVICE_ADMIN,
            )
        return Affected(
            table="calcom event types",
            pk=finding["event_type_id"],
            label=f"{finding.get('title')} ({row.company_name})",
            detail=detail,
        )


@register
class EventTypesWithoutService(_EventTypeCheck):
    id = "AUD-ETY-001"
    severity = Severity.WARNING
    finding_kind = rc.MISSING_SERVICE
    title = gettext_lazy("Appointment types callers cannot book (no service)")
    explanation = gettext_lazy(
        "The company offers this appointment type in its booking calendar (Cal.com), but the "
        "phone agent does not know it: no caller can book it."
    )
    detail = gettext_lazy(
        "The gateway books the event types it finds in services (by calcom_event_type_id). An "
        "event type of the company's Cal.com team without a service cannot be booked by a call."
    )
    hint = gettext_lazy(
        "The fix creates the services as the gateway's own team import would; re-run "
        "manage.py reconcile_calcom afterwards."
    )
    fix_id = FIX_ID


@register
class ServicesSwitchedOffWrongly(_EventTypeCheck):
    id = "AUD-ETY-003"
    severity = Severity.CRITICAL
    finding_kind = rc.SWITCHED_OFF
    title = gettext_lazy("Services callers cannot book because they were switched off by mistake")
    explanation = gettext_lazy(
        "The gateway's regular sync with the booking calendar switched these services off "
        "although the calendar still has them: callers cannot book them."
    )
    detail = gettext_lazy(
        "Every 30 minutes the gateway's calcom:sync-services reads an empty list and switches off "
        "every service with sync_error 'Event Type not found in Cal.com'. Where Cal.com does list "
        "the event type, the service was switched off by that defect and calls cannot book it."
    )
    hint = gettext_lazy(
        "The fix switches these services on again (as Cal.com's hidden flag says). The "
        "gateway's sync may switch them off again until it is repaired."
    )
    fix_id = FIX_ID


@register
class ServicesWithoutEventType(_EventTypeCheck):
    id = "AUD-ETY-002"
    severity = Severity.WARNING
    finding_kind = rc.ORPHAN_SERVICE
    title = gettext_lazy("Services whose bookings fail (appointment type gone from the calendar)")
    explanation = gettext_lazy(
        "The phone agent offers this service, but the booking calendar (Cal.com) no longer has "
        "its appointment type: a caller who chooses it gets no booking."
    )
    detail = gettext_lazy(
        "The gateway books a service's calcom_event_type_id. When Cal.com no longer lists that "
        "event type for the company's key and team, a booking for the service fails."
    )
    hint = gettext_lazy(
        "Check in Cal.com whether the event type was deleted or moved, then switch the service "
        "off or give it the new event type."
    )


@register
class ServicesDrifted(_EventTypeCheck):
    id = "AUD-ETY-004"
    severity = Severity.INFO
    finding_kind = rc.DRIFT
    title = gettext_lazy("Services offered with another name or length than the calendar books")
    explanation = gettext_lazy(
        "The phone agent tells callers the service's name and length, but the booking calendar "
        "books its own length: a caller may be told 30 minutes and booked for 60, or the other "
        "way round."
    )
    detail = gettext_lazy(
        "The agent offers a service's name and duration; Cal.com books the event type's length "
        "(lengthInMinutes). The gateway's import reads a field Cal.com v2 no longer sends, so "
        "imported durations may have fallen back to 30 minutes."
    )
    hint = gettext_lazy(
        "The fix writes Cal.com's name and duration, as the gateway's import would."
    )
    fix_id = FIX_ID


@register
class EventTypesUnderOtherCompany(_EventTypeCheck):
    id = "AUD-ETY-005"
    severity = Severity.WARNING
    finding_kind = rc.OTHER_COMPANY
    title = gettext_lazy("Services filed under the wrong company")
    explanation = gettext_lazy(
        "A service created automatically from the booking calendar was filed under another "
        "company: callers of the right company cannot book it, and another company's agent may "
        "offer it."
    )
    detail = gettext_lazy(
        "The gateway's Cal.com EVENT_TYPE.CREATED webhook, without metadata.company_id, files "
        "the new service under the first company of the table: calls of the team's company "
        "cannot book it, and another company's agent may offer it."
    )
    hint = gettext_lazy(
        "Decide which company the service belongs to and move it in the service's admin page; "
        "no fix moves it silently."
    )
