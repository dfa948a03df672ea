"""The demo's Cal.com case (semantics.md §3b): a service the gateway's 30-minute sync switched
off ("Event Type not found in Cal.com") although its event type exists.

The demo has no Cal.com to ask, so it also stores the comparison a `manage.py reconcile_calcom`
would have made for that company (audit_app.ProviderReconciliation, at the reference time): the
audit's AUD-ETY-003 and the company page show the finding, and its fix's preview says why it
cannot read Cal.com for a demo company (no key).
"""

from integrations_app import reconcile_calcom as rc


def _target(data):
    """The first service with an event type: the one the gateway's sync switched off."""
    return next((s for s in data.services if s.calcom_event_type_id), None)


def switch_off(data) -> None:
    service = _target(data)
    if service is not None:
        service.is_active = False
        service.sync_status = "error"
        service.sync_error = rc.SWITCHED_OFF_ERROR


def store(data, checked_at) -> None:
    from audit_app.models import ProviderReconciliation

    service = _target(data)
    if service is None:
        return
    company = next(c for c in data.companies if c.id == service.company_id)
    listed = [s for s in data.services if s.company_id == company.id and s.calcom_event_type_id]
    finding = {
        "kind": rc.SWITCHED_OFF,
        "event_type_id": service.calcom_event_type_id,
        "title": service.name,
        "length": service.duration_minutes,
        "service_id": service.pk,
        "service_name": service.name,
        "hidden": False,
    }
    ProviderReconciliation.objects.filter(kind=rc.KIND).delete()
    ProviderReconciliation.objects.create(
        kind=rc.KIND,
        company_id=company.id,
        company_name=company.name,
        provider_count=len(listed),
        findings=[finding],
        checked_at=checked_at,
    )
