"""sync-calcom-services: write services as the gateway's own team import would (§3b).

The plan reads Cal.com now, but only for the companies whose stored reconciliation
(``manage.py reconcile_calcom``, ProviderReconciliation) has a finding this fix writes (an event
type without service, a switched-off service, drift): a company without one is not read, so the
web request and apply_fix's lock wait for those few companies only, never for every configured
one. apply_fix plans again under the lock, so an event type that changed in Cal.com between
preview and confirm gives a new preview instead of a write. It creates a service for each event
type without one (the import's columns, ``calcom_event_type_id`` globally unique), switches on
the services the gateway's sync switched off although their event type exists, and writes
Cal.com's name and duration where they drifted.
A service filed under another company, a service whose event type is gone, and a company whose
Cal.com cannot be read (now, or at the stored reconciliation) stay on the work list: shown,
never moved or guessed.
"""

from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit_app.checks.common import COMPANY_ADMIN
from audit_app.checks.event_types import FIX_ID, SERVICE_ADMIN
from audit_app.fixes.base import Fix, Plan, PlannedWrite, register_fix
from audit_app.models import ProviderReconciliation
from audit_app.registry import Affected
from integrations_app import reconcile_calcom as rc
from integrations_app.models import Service
from integrations_app.services import create_rows, update_rows

SYNCED = {"sync_status": "synced", "sync_error": None}
# The findings this fix writes; only companies with one of them stored are read from Cal.com.
WRITES = (rc.MISSING_SERVICE, rc.SWITCHED_OFF, rc.DRIFT)


def import_columns(company_id: int, et: dict) -> dict:
    """The columns the gateway's import writes for one event type (without the time stamp)."""
    return {
        "company_id": company_id,
        "calcom_event_type_id": str(et["id"]),
        "name": et["title"][:255],
        "calcom_name": et["title"][:255],
        "slug": (et.get("slug") or "")[:255] or None,
        "description": et.get("description"),
        "duration_minutes": et["lengthInMinutes"],
        "price": _price(et.get("price")),
        "is_active": not et["hidden"],
        "schedule_id": _int(et.get("scheduleId")),
        "minimum_booking_notice": _int(et.get("minimumBookingNotice"), 120),
        "before_event_buffer": _int(et.get("beforeEventBuffer"), 0),
        "buffer_time_minutes": _int(et.get("afterEventBuffer"), 0),
        "requires_confirmation": bool(et.get("requiresConfirmation")),
        "booking_link": et.get("bookingUrl"),
        "locations_json": et.get("locations"),
        "metadata_json": et.get("metadata"),
        "booking_fields_json": et.get("bookingFields"),
        **SYNCED,
    }


def _int(value, default=None):
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _price(value) -> str:
    try:
        return str(Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01")))
    except InvalidOperation:
        return "0.00"


@register_fix
class SyncCalcomServices(Fix):
    id = FIX_ID
    check_id = "AUD-ETY-003"
    title = gettext_lazy("Write services as the gateway's Cal.com import would")
    description = gettext_lazy(
        "Reads from Cal.com now the event types of the companies whose last comparison found "
        "something to write (the others are not read), creates a service for each event type "
        "without one, switches on the services the gateway's sync switched off although their "
        "event type exists, and writes Cal.com's name and duration where they differ, marked "
        "as synchronised now. Services under another company are only listed."
    )
    detail = gettext_lazy(
        "Writes services rows as the gateway's Cal.com import does: sync_status 'synced' and "
        "last_calcom_sync now on each row it creates or changes."
    )

    def plan(self) -> Plan:
        plan = Plan(fix=self)
        stored = list(
            ProviderReconciliation.objects.filter(kind=rc.KIND).only(
                "company_id", "company_name", "available", "reason", "findings"
            )
        )
        company_ids = {
            row.company_id
            for row in stored
            if any(isinstance(f, dict) and f.get("kind") in WRITES for f in row.findings or ())
        }
        for row in stored:  # not read now: what the stored comparison says stays on the list
            if row.company_id in company_ids:
                continue
            if not row.available:
                plan.needs_person.append(
                    Affected(
                        table="companies",
                        pk=row.company_id,
                        label=row.company_name,
                        detail=_("not available: %(reason)s") % {"reason": row.reason},
                        admin=COMPANY_ADMIN,
                    )
                )
            for finding in row.findings or ():
                if isinstance(finding, dict) and finding.get("kind") not in WRITES:
                    plan.needs_person.append(self._listed(row, finding))
        # Never reconcile() without ids: that reads every configured company.
        results = rc.reconcile(company_ids=sorted(company_ids)) if company_ids else []
        current = {
            s.pk: s
            for s in Service.objects.filter(
                pk__in=[f["service_id"] for r in results for f in r.findings if "service_id" in f]
            )
        }
        wanted: dict[str, list] = {}
        for result in results:
            if not result.available:
                plan.needs_person.append(
                    Affected(
                        table="companies",
                        pk=result.company_id,
                        label=result.company_name,
                        detail=_("not available: %(reason)s") % {"reason": result.reason},
                        admin=COMPANY_ADMIN,
                    )
                )
                continue
            event_types = {str(et["id"]): et for et in result.event_types}
            for finding in result.findings:
                kind = finding["kind"]
                if kind == rc.MISSING_SERVICE:
                    wanted.setdefault(finding["event_type_id"], []).append(
                        (result, event_types[finding["event_type_id"]])
                    )
                elif kind in (rc.SWITCHED_OFF, rc.DRIFT):
                    self._update(plan, result, finding, current, event_types)
                else:
                    plan.needs_person.append(self._listed(result, finding))
        for et_id, claims in sorted(wanted.items()):
            if len(claims) > 1:  # one key seen by two companies: whose is it?
                for result, et in claims:
                    plan.needs_person.append(
                        Affected(
                            table="calcom event types",
                            pk=et_id,
                            label=f"{et['title']} ({result.company_name})",
                            detail=_("Cal.com lists this event type for several companies"),
                        )
                    )
                continue
            result, et = claims[0]
            plan.writes.append(
                PlannedWrite(
                    table="services",
                    action="create",
                    description=_('Service "%(name)s" (event type %(id)s) for %(company)s')
                    % {"name": et["title"], "id": et_id, "company": result.company_name},
                    key=f"service-for-event-type-{et_id}",
                    after=import_columns(result.company_id, et),
                )
            )
        # One write per service: a switched-off service that also drifted is one update.
        merged: dict[object, PlannedWrite] = {}
        for write in plan.writes:
            if write.action == "update" and write.pk in merged:
                first = merged[write.pk]
                first.before.update(write.before)
                first.after.update(write.after)
            else:
                merged[write.pk if write.action == "update" else write.key] = write
        plan.writes = list(merged.values())
        return plan

    def _update(self, plan, result, finding, current, event_types) -> None:
        service = current.get(finding["service_id"])
        et = event_types.get(finding["event_type_id"])
        if service is None or et is None:
            return
        if finding["kind"] == rc.SWITCHED_OFF:
            after = {"is_active": not et["hidden"], **SYNCED}
            text = _('Switch service "%(name)s" on again (event type %(id)s exists)')
        else:
            after = {
                "name": et["title"][:255],
                "calcom_name": et["title"][:255],
                "duration_minutes": et["lengthInMinutes"],
                **SYNCED,
            }
            text = _('Service "%(name)s": name and duration from event type %(id)s')
        before = {column: getattr(service, column) for column in after}
        plan.writes.append(
            PlannedWrite(
                table="services",
                action="update",
                description=text % {"name": service.name, "id": et["id"]},
                pk=service.pk,
                before=before,
                after=after,
            )
        )

    def _listed(self, result, finding) -> Affected:
        return Affected(
            table="services",
            pk=finding.get("service_id"),
            label=f"{finding.get('service_name')} ({result.company_name})",
            detail=rc.finding_text(finding),
            admin=SERVICE_ADMIN,
        )

    def write(self, plan: Plan) -> None:
        now = timezone.now()
        creates = [
            Service(**{**w.after, "price": Decimal(w.after["price"])}, last_calcom_sync=now)
            for w in plan.writes
            if w.action == "create"
        ]
        create_rows(rows=creates)
        updates = {
            w.pk: {**w.after, "last_calcom_sync": now} for w in plan.writes if w.action == "update"
        }
        update_rows(model=Service, values=updates)
