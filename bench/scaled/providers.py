"""services (Cal.com event types, §3b), integrations (§1, §4) and notification_templates (§5).

The gaps: integrations that are not active, keys under the previous key, in the wrong flavour,
under a lost key, damaged or pasted in plain text, keys in the credentials JSON, a key that
differs from the company's, rows the gateway's rules reject (display name as provider, empty
tenant_id, unknown status), integrations without a company; services switched off by the
gateway's sync defect; companies without the templates their workflows send.
"""

import json

from bench.scaled import keys
from bench.scaled.plan import KEY_STATES, World
from bench.scaled.values import DAY, END, YEAR, new_uuid, partition, pick, ts, unique_hex

EVENT_TYPES_PER_COMPANY = 4  # at most
SYNC_DEFECT = 0.05  # services set inactive by the 30-minute sync defect
SERVICE_NAMES = ("Erstgespräch", "Beratung", "Behandlung", "Kontrolle", "Haarschnitt", "Termin")


def event_type_id(company_id: int, j: int) -> int:
    return 1_000_000 + company_id * 10 + j


SERVICE_COLUMNS = (
    "id", "company_id", "name", "calcom_name", "slug", "calcom_event_type_id",
    "duration_minutes", "price", "is_active", "sync_status", "sync_error", "last_calcom_sync",
    "created_at", "updated_at", "deleted_at",
)  # fmt: skip


def service_rows(world: World):
    rng = world.rng("services")
    service_id = 0
    for company in world.companies:
        count = rng.randint(1, EVENT_TYPES_PER_COMPANY) if company.calcom else rng.randint(0, 2)
        for j in range(count):
            service_id += 1
            name = SERVICE_NAMES[(company.id + j) % len(SERVICE_NAMES)]
            event_type = event_type_id(company.id, j) if company.calcom else None
            defect = event_type is not None and rng.random() < SYNC_DEFECT
            deleted = rng.random() < 0.02
            if defect:
                world.gaps["services: switched off by the Cal.com sync defect"] += 1
            if not deleted and not defect:
                company.services.append(service_id)
            synced = END - rng.randrange(30 * DAY)
            yield (
                service_id, company.id, name, name if event_type else None,
                f"{name.lower()}-{service_id}", str(event_type) if event_type else None,
                rng.choice((15, 30, 45, 60)), rng.choice((0, 25, 49.5, 80)), int(not defect),
                ("error" if defect else "synced") if event_type else "never",
                "Event Type not found in Cal.com" if defect else None,
                ts(synced) if event_type else None, ts(synced - YEAR), ts(synced),
                ts(synced) if deleted else None,
            )  # fmt: skip


STATUSES = {"inactive": 0.05, "error": 0.04, "pending": 0.03, "suspended": 0.02, "syncing": 0.01}
REJECTED = {"display_name": 0.003, "empty_tenant": 0.002, "unknown_status": 0.002}
API_KEY_STATES = {**KEY_STATES, keys.PLAIN_IN_ENCRYPTED: 0.01}
KEY_IN_JSON = 0.01
DIVERGING = 0.02
WITHOUT_COMPANY = 0.002
KINDS = {
    "calcom": ("calendar", "Cal.com"),
    "retell": ("telephony", "Retell AI"),
    "webhook": ("webhook", "Webhook"),
    "api": ("api", "API"),
    "oauth2": ("oauth2", "OAuth 2"),
}
INTEGRATION_COLUMNS = (
    "id", "tenant_id", "company_id", "name", "type", "provider", "status", "is_active",
    "config", "credentials", "api_key", "api_secret", "access_token", "refresh_token",
    "webhook_url", "webhook_secret", "environment", "health_status", "last_sync_at",
    "created_at", "updated_at",
)  # fmt: skip


def _slots(world: World, rng) -> list[tuple[int, str]]:
    """(company index, provider) of each integration: the core ones first, then the rest."""
    integrated = [c.id - 1 for c in world.companies if c.integrated]
    order = list(integrated)
    rng.shuffle(order)
    core = []
    for i in order:
        company = world.companies[i]
        core += [(i, p) for p, on in (("calcom", company.calcom), ("retell", company.retell)) if on]
    wanted = world.sizes["integrations"]
    extra = wanted - len(core)
    if extra > 0 and integrated:
        core += [
            (rng.choice(integrated), rng.choice(("webhook", "api", "oauth2"))) for _ in range(extra)
        ]
    return sorted(core[:wanted])


def integration_rows(world: World):
    rng = world.rng("integrations")
    slots = _slots(world, rng)
    rows = list(range(len(slots)))
    status = partition(rng, rows, STATUSES)
    rejected = partition(rng, rows, REJECTED)
    key_state = partition(rng, rows, API_KEY_STATES)
    in_json = pick(rng, rows, KEY_IN_JSON) if rows else set()
    orphan = pick(rng, rows, WITHOUT_COMPANY) if rows else set()
    for k, (owner, provider) in enumerate(slots):
        company = world.companies[owner]
        secrets = _secrets(world, rng, company, provider, k)
        state = key_state.get(k, keys.OK) if "api_key" in secrets else keys.OK
        written = {
            c: world.secrets.raw(v, state if c == "api_key" else keys.OK)
            for c, v in secrets.items()
        }
        kind, name = KINDS[provider]
        row_status = "ok" if rejected.get(k) == "unknown_status" else status.get(k, "active")
        credentials = None
        if k in in_json:
            plain = (
                secrets.get("api_key")
                or secrets.get("webhook_secret")
                or secrets.get("refresh_token")
            )
            credentials = json.dumps({"api_key": plain})
        _count(world, k, state, rejected.get(k), status.get(k), credentials, orphan)
        created = END - YEAR - rng.randrange(YEAR)
        yield (
            k + 1, "" if rejected.get(k) == "empty_tenant" else new_uuid(rng),
            None if k in orphan else company.id, f"{name} {company.id}", kind,
            name if rejected.get(k) == "display_name" else provider, row_status,
            int(row_status not in ("inactive", "suspended")), _config(company, provider),
            credentials, written.get("api_key"), written.get("api_secret"),
            written.get("access_token"), written.get("refresh_token"),
            f"https://hooks.example.test/{company.id}" if provider == "webhook" else None,
            written.get("webhook_secret"), "production", "unknown",
            ts(END - rng.randrange(DAY)), ts(created), ts(created + DAY),
        )  # fmt: skip


def _secrets(world: World, rng, company, provider: str, k: int) -> dict[str, str]:
    salt = world.seed + 10
    if provider == "calcom":
        key = company.calcom_key
        if company.calcom_state == keys.OK and rng.random() < DIVERGING:
            key = f"cal_test_{unique_hex(k, salt)}"
            world.gaps["integrations.api_key: differs from companies.calcom_api_key"] += 1
        return {"api_key": key}
    if provider == "retell":
        return {"api_key": company.retell_key}
    if provider == "webhook":
        return {"webhook_secret": f"whsec_{unique_hex(k, salt)}"}
    if provider == "api":
        return {"api_key": f"key_test_{unique_hex(k, salt)}", "api_secret": unique_hex(k, salt + 1)}
    return {
        "access_token": f"ya29.test-{unique_hex(k, salt)}",
        "refresh_token": f"1//test-{unique_hex(k, salt + 1)}",
    }


def _config(company, provider: str) -> str | None:
    if provider == "calcom":
        return json.dumps(
            {
                "event_type_id": event_type_id(company.id, 0),
                "team_id": company.team_id,
                "team_slug": f"team-{company.id}",
            }
        )
    if provider == "retell":
        return json.dumps({"agent_id": company.agent})
    return None


def _count(world: World, k: int, state: str, rejected, status, credentials, orphan) -> None:
    if state != keys.OK:
        world.gaps[f"integrations.api_key: {state.replace('_', ' ')}"] += 1
    if rejected:
        world.gaps[f"integrations: rejected row ({rejected.replace('_', ' ')})"] += 1
    if status:
        world.gaps[f"integrations: status {status}"] += 1
    if credentials:
        world.gaps["integrations.credentials: key in plain-text JSON"] += 1
    if k in orphan:
        world.gaps["integrations: without company"] += 1


TEMPLATES = (("appointment_confirmation", "email"), ("appointment_reminder_24h", "sms"))
BOTH_TEMPLATES = 0.6
ONE_TEMPLATE = 0.1
TEMPLATE_COLUMNS = (
    "company_id", "key", "channel", "name", "type", "translations", "subject", "content",
    "variables", "is_active", "created_at", "updated_at",
)  # fmt: skip


def template_rows(world: World):
    rng = world.rng("notification_templates")
    everyone = [c.id - 1 for c in world.companies]
    shares = partition(rng, everyone, {"both": BOTH_TEMPLATES, "one": ONE_TEMPLATE})
    content = json.dumps(
        {
            "de": "Ihr Termin am {date:date(d.m.Y)} um {time}, {name}.",
            "en": "Your appointment on {date:date(d.m.Y)} at {time}, {name}.",
        }
    )
    subject = json.dumps({"de": "Ihr Termin", "en": "Your appointment"})
    for i in everyone:
        share = shares.get(i)
        if share is None:
            world.gaps["companies without notification templates"] += 1
            continue
        for key, channel in TEMPLATES[: 2 if share == "both" else 1]:
            created = END - rng.randrange(YEAR)
            yield (
                i + 1, key, channel, key.replace("_", " ").title(), channel, "{}",
                subject if channel == "email" else None, content, '["name", "date", "time"]',
                int(rng.random() > 0.05), ts(created), ts(created),
            )  # fmt: skip
