"""GET /health/: may a load balancer send people here? For probes: no login, no data, no secret.

Three checks, each "ok" or a stable reason code: the database answers, the gateway key
encrypts and decrypts (without it no credential can be saved or read), and no migration of the
console's own tables is pending. 200 when all pass, 503 otherwise.

Hand-written rather than django-health-check: its database probe writes a row into a table of
its own on every call, and the console must not write on the gateway's database to be probed.
"""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError

_PROBE = "askpro-health-probe"
_migrated = False  # once applied, migrations stay applied for this process's life


def database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "unreachable"
    return "ok"


def gateway_key() -> str:
    try:
        encrypter = Encrypter.from_settings()
        ok = encrypter.decrypt_string(encrypter.encrypt_string(_PROBE)) == _PROBE
    except GatewayKeyError:
        return "unusable"
    except DecryptionError:
        return "round_trip_failed"
    return "ok" if ok else "round_trip_failed"


def migrations() -> str:
    global _migrated
    if _migrated:
        return "ok"
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "unknown"
    if pending:
        return "pending"
    _migrated = True
    return "ok"


@never_cache
@require_GET
def health(request):
    checks = {"database": database()}
    checks["gateway_key"] = gateway_key()
    checks["migrations"] = migrations() if checks["database"] == "ok" else "unknown"
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "fail", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)
