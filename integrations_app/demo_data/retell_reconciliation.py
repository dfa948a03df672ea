"""The demo's Retell case (semantics.md §3): a number Retell has that the database lacks, so its
calls arrive and are rejected.

The demo has no Retell to ask, so it stores the comparison a `manage.py reconcile_retell` would
have made for the first company with a phone number (audit_app.ProviderReconciliation, at the
reference time): the audit's AUD-RTN-001 shows the finding.
"""

from integrations_app import reconcile_retell as rr

UNKNOWN_NUMBER = "+493023125198"  # fictional range; in the Retell account, in no phone_numbers row
DEMO_AGENT = "agent_demo_0000000000000001"


def store(data, checked_at) -> None:
    from audit_app.models import ProviderReconciliation

    numbered = {n.company_id for n in data.phone_numbers if n.company_id}
    company = next((c for c in data.companies if c.id in numbered), None)
    if company is None:
        return
    ProviderReconciliation.objects.filter(kind=rr.KIND).delete()
    ProviderReconciliation.objects.create(
        kind=rr.KIND,
        company_id=company.id,
        company_name=company.name,
        provider_count=1 + sum(1 for n in data.phone_numbers if n.company_id == company.id),
        findings=[
            {
                "kind": rr.MISSING_IN_DB,
                "number": UNKNOWN_NUMBER,
                "parses": True,
                "inbound_agents": [{"agent_id": DEMO_AGENT, "agent_version": 1, "weight": 1}],
            }
        ],
        checked_at=checked_at,
    )
