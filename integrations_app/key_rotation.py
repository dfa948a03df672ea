"""Re-encrypting the gateway's secrets under its current key (`manage.py rotate_gateway_key`).

When the gateway's APP_KEY changes, the old key moves to APP_PREVIOUS_KEYS and Laravel keeps
reading old values with it. This rotation re-encrypts every value in the gateway's encrypted
secret columns that only a previous key opens, under the current key and in the flavour of its
column (semantics.md §1), so that the previous key can eventually be retired.

- Values already under the current key are left byte for byte as they are.
- Values that no key opens, and values stored in the other flavour than their column's, are
  reported (table, id, column, reason) and left untouched: the console cannot know what they
  should be, and the gateway cannot read them either.
- Table by table, batch by batch (keyset pagination on the primary key, ``BATCH_SIZE`` rows);
  each batch is one transaction that locks its rows (``SELECT ... FOR UPDATE``), re-encrypts
  them and writes them in a fixed number of statements: one multi-row ``UPDATE ... CASE``, the
  operation's row, one multi-row INSERT into the change store (``services.secrets``). The
  statements of a run depend on the number of batches, never on the rows in a batch; memory on
  the batch size and the values found unreadable, never on the rows rotated (a rotated value
  is counted and handed to ``on_finding``, not kept).
- Soft-deleted rows are rotated too: the gateway may restore them.
- `updated_at` is not touched: the secret itself does not change, only its encryption.
- One operation (source rotation) per run; the change store gets one change per rewritten row,
  each rotated column as its fingerprint before, "… (GATEWAY_PREVIOUS_KEYS[n])", and after;
  never a secret or a payload. Mirrored tables and `tenants` (not mirrored, rotated when the
  table exists) are written the same way, through ``services.secrets.rewrite_secrets``; the
  new values of a mirrored table are checked against its columns' limits first.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Model, Q

from changelog.models import Source
from changelog.recording import operation
from integrations_app.crypto import php_string
from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
from integrations_app.crypto.errors import REASONS, DecryptionError
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.models import GATEWAY_MODELS
from integrations_app.services import limits, snapshots
from integrations_app.services.secrets import Rewritten, rewrite_secrets

logger = logging.getLogger("askpro.key_rotation")

BATCH_SIZE = 1000

ROTATED = "rotated"
CURRENT = "current"
UNDECRYPTABLE = "undecryptable"
WRONG_FLAVOUR = "wrong_flavour"
OUTCOMES = (ROTATED, CURRENT, UNDECRYPTABLE, WRONG_FLAVOUR)


@dataclass(frozen=True)
class SecretTable:
    """A gateway table with encrypted secret columns, all in one flavour (semantics.md §1)."""

    table: str
    columns: tuple[str, ...]
    flavour: str  # SERIALIZED (Laravel encrypt()) or RAW (encryptString())
    model: type[Model] | None = None  # the mirrored model; None: plain SQL, when the table exists


def _mirrored() -> list[SecretTable]:
    """The encrypted columns as the models declare them (``GatewayModel.SECRET_COLUMNS``)."""
    return [
        SecretTable(model._meta.db_table, columns, flavour, model)
        for model in GATEWAY_MODELS
        for flavour in (SERIALIZED, RAW)
        if (columns := model.encrypted_columns(flavour))
    ]


# `tenants` is not mirrored (nothing but rotation reads it): its columns are declared here.
TENANTS = SecretTable(
    "tenants",
    ("api_key", "api_secret", "webhook_secret", "calcom_api_key", "retell_api_key"),
    SERIALIZED,
)
SECRET_TABLES = (*_mirrored(), TENANTS)


@dataclass(frozen=True)
class Finding:
    """One stored value that was (or, in a dry run, would be) rotated, or that is unreadable."""

    table: str
    pk: object
    column: str
    outcome: str  # one of OUTCOMES
    reason: str = ""  # DecryptionError.reason, for UNDECRYPTABLE and WRONG_FLAVOUR
    key_index: int = 0  # which key opened it: 0 the current one, 1.. the previous ones
    fingerprint: str = ""  # of the plaintext, for ROTATED; never the secret

    @property
    def message(self) -> str:
        return str(REASONS[self.reason]) if self.reason else ""


@dataclass
class Report:
    dry_run: bool
    counts: Counter = field(default_factory=Counter)  # values per outcome
    # The values no key opens or in the wrong flavour; rotated ones are counted (and handed to
    # ``on_finding``), not kept: memory does not grow with the rows rotated.
    findings: list[Finding] = field(default_factory=list)
    rows_changed: int = 0
    tables: list[str] = field(default_factory=list)  # the tables scanned
    absent: list[str] = field(default_factory=list)  # tables / columns this database lacks

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.outcome in (UNDECRYPTABLE, WRONG_FLAVOUR)]

    def add(self, finding: Finding) -> None:
        self.counts[finding.outcome] += 1
        if finding.outcome in (UNDECRYPTABLE, WRONG_FLAVOUR):
            self.findings.append(finding)


def rotate(
    *,
    encrypter: Encrypter | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    using: str = "default",
    on_finding: Callable[[Finding], None] | None = None,
) -> Report:
    """Rotate every secret column of SECRET_TABLES; GatewayKeyError when the keys are unusable.

    ``on_finding`` is called for each rotated or unreadable value as it is found (the command
    prints them as it goes); a dry run finds the same values and writes nothing.
    """
    with operation(source=Source.ROTATION, name="rotate_gateway_key"):
        return _rotate(encrypter, dry_run, batch_size, using, on_finding)


def _rotate(encrypter, dry_run, batch_size, using, on_finding) -> Report:
    encrypter = encrypter or Encrypter.from_settings()
    report = Report(dry_run=dry_run)
    connection = connections[using]
    present = set(connection.introspection.table_names())
    for target in SECRET_TABLES:
        if target.table not in present:
            report.absent.append(target.table)
            continue
        columns = _present_columns(connection, target)
        report.absent += [f"{target.table}.{c}" for c in target.columns if c not in columns]
        if not columns:
            continue
        report.tables.append(target.table)
        _rotate_table(target, columns, encrypter, report, dry_run, batch_size, using, on_finding)
    return report


def classify(encrypter: Encrypter, flavour: str, payload: str) -> tuple[str, str, int, str]:
    """(outcome, reason, key_index, plaintext) of one stored value in a column of ``flavour``."""
    try:
        found = encrypter.inspect(payload)
        if found.flavour != flavour:
            # The other flavour, or a serialized value that is no string: let the column's own
            # reading function say which.
            if flavour == SERIALIZED:
                php_string.unserialize(found.value.encode("utf-8"))
            raise DecryptionError("wrong_flavour")
    except DecryptionError as error:
        outcome = WRONG_FLAVOUR if error.reason == "wrong_flavour" else UNDECRYPTABLE
        return outcome, error.reason, -1, ""
    if found.key_index == 0:
        return CURRENT, "", 0, found.value
    return ROTATED, "", found.key_index, found.value


def key_name(key_index: int) -> str:
    """The setting that holds the key of this index, as keys.py names it in its errors."""
    return "GATEWAY_APP_KEY" if key_index == 0 else f"GATEWAY_PREVIOUS_KEYS[{key_index - 1}]"


# -- one table -----------------------------------------------------------------------------------


def _present_columns(connection, target: SecretTable) -> list[str]:
    if target.model is not None:
        return list(target.columns)  # a mirrored table: `gateway_schema check` vouches for it
    with connection.cursor() as cursor:
        names = {
            c.name for c in connection.introspection.get_table_description(cursor, target.table)
        }
    return [c for c in target.columns if c in names]


def _rotate_table(target, columns, encrypter, report, dry_run, batch_size, using, on_finding):
    last = None
    while True:
        with transaction.atomic(using=using):
            rows = _fetch(target, columns, last, batch_size, using, lock=not dry_run)
            if not rows:
                return
            changed = []
            for pk, values, instance in rows:
                rotated = {}
                for column in columns:
                    finding, payload = _rotate_value(target, pk, column, values[column], encrypter)
                    if finding is None:
                        continue
                    report.add(finding)
                    if finding.outcome != CURRENT and on_finding is not None:
                        on_finding(finding)
                    if payload is not None:
                        rotated[column] = (payload, finding)
                if rotated:
                    changed.append((pk, instance, rotated))
            if changed and not dry_run:
                _write(target, changed, using, encrypter)
            report.rows_changed += len(changed)
        last = rows[-1][0]
        if len(rows) < batch_size:
            return


def _rotate_value(target, pk, column, value, encrypter) -> tuple[Finding | None, str | None]:
    """The finding for one stored value, and its new payload when it is to be rotated."""
    if value is None or value == "":
        return None, None
    outcome, reason, key_index, plaintext = classify(encrypter, target.flavour, value)
    if outcome != ROTATED:
        return Finding(target.table, pk, column, outcome, reason, max(key_index, 0)), None
    if target.flavour == SERIALIZED:
        payload = encrypter.encrypt(plaintext)
    else:
        payload = encrypter.encrypt_string(plaintext)
    finding = Finding(
        target.table, pk, column, ROTATED, key_index=key_index, fingerprint=fingerprint(plaintext)
    )
    return finding, payload


def _fetch(target, columns, last, batch_size, using, *, lock: bool):
    """The next batch as (pk, {column: value}, model instance or None), locked unless dry."""
    if target.model is not None:
        queryset = target.model._base_manager.using(using).order_by("pk")
        queryset = queryset.filter(_any_set(columns))
        if last is not None:
            queryset = queryset.filter(pk__gt=last)
        if lock:
            queryset = queryset.select_for_update()
        rows = list(queryset[:batch_size])
        snapshots.load_labels(rows)  # the change store's labels, one query for the batch
        return [(row.pk, {c: getattr(row, c) for c in columns}, row) for row in rows]
    connection = connections[using]
    quote = connection.ops.quote_name
    where = ["(" + " OR ".join(f"{quote(c)} IS NOT NULL" for c in columns) + ")"]
    params = []
    if last is not None:
        where.append(f"{quote('id')} > %s")
        params.append(last)
    sql = (
        f"SELECT {quote('id')}, {', '.join(quote(c) for c in columns)} "  # noqa: S608
        f"FROM {quote(target.table)} WHERE {' AND '.join(where)} "
        f"ORDER BY {quote('id')} LIMIT %s"
    )
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, batch_size])
        return [(row[0], dict(zip(columns, row[1:], strict=True)), None) for row in cursor]


def _any_set(columns) -> Q:
    condition = Q()
    for column in columns:
        condition |= Q(**{f"{column}__isnull": False})
    return condition


def _write(target, changed, using, encrypter) -> None:
    """Write one batch's new payloads, recorded: fingerprints only, in a fixed number of queries.

    The change store gets, per row, each rotated column's fingerprint before ("… (key)") and
    after, computed from the values this batch read (and locked); ``updated_at`` stays (the
    secret itself is unchanged). ``encrypter`` is not needed: the findings carry what is kept.
    """
    rows = []
    for pk, instance, rotated in changed:
        payloads = {column: payload for column, (payload, _finding) in rotated.items()}
        company_id, label = None, f"{target.table} {pk}"
        if instance is not None:  # read for this batch only: the new payloads go into it
            company_id = snapshots.company_of(instance)
            label = snapshots.label_of(instance)
            for column, payload in payloads.items():
                setattr(instance, column, payload)
            limits.check(instance, payloads)
        rows.append(
            Rewritten(
                pk=pk,
                payloads=payloads,
                before={
                    c: f"{f.fingerprint} ({key_name(f.key_index)})"
                    for c, (_p, f) in rotated.items()
                },
                after={c: f.fingerprint for c, (_p, f) in rotated.items()},
                company_id=company_id,
                label=label,
            )
        )
    key = target.model._meta.pk.column if target.model is not None else "id"
    rewrite_secrets(table=target.table, rows=rows, key=key, using=using)
    if target.model is None:
        for pk, _instance, rotated in changed:
            logger.info(
                "rotated %s %s: %s",
                target.table,
                pk,
                ", ".join(f"{c} ({f.fingerprint})" for c, (_p, f) in rotated.items()),
            )
