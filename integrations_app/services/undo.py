"""Undoing an import or a fix run from the change store's before-images.

The preview (``plan_undo``) lists every reverse write: a row the operation created is removed
(as the gateway deletes: soft where it soft-deletes), a changed row gets its before-image back,
a row it removed is put back. A row that changed after the operation is refused, with the
column and its value now; a secret column is refused too (the store keeps only its fingerprint,
so the key itself cannot come back). ``apply_undo`` re-plans in one transaction under the
operation's row lock and writes only what the preview with that digest showed; the undo is an
operation of its own (``undo_of``, unique: of two simultaneous undos one wins).
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from changelog.models import Operation, Source
from changelog.naming import undo_name
from changelog.recording import operation, operation_row
from changelog.selectors import operation_changes
from integrations_app.labels import local_time
from integrations_app.locks import hold_row_lock
from integrations_app.models import GATEWAY_MODELS, ImportLock, PhoneNumber
from integrations_app.models.base import SoftDeleteModel
from integrations_app.phone import (
    PRIMARIES_PER_COMPANY,
    ROUTING_COLUMNS,
    claimed_forms,
    duplicates_q,
)
from integrations_app.services.records import create_rows, delete_records, update_rows
from integrations_app.services.snapshots import same_value, values_of

MODELS_BY_TABLE = {model._meta.db_table: model for model in GATEWAY_MODELS}
UNDOABLE = (Source.IMPORT, Source.FIX)

REMOVE, REVERT, RESTORE = "remove", "revert", "restore"


class UndoError(Exception):
    """Nothing was written; ``message`` says why, in the user's language."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class StaleUndo(UndoError):
    """The rows changed since the preview: ``plan`` is the new preview."""

    def __init__(self, plan):
        self.plan = plan
        super().__init__(_("The data changed since the preview: check the new preview."))


@dataclass
class UndoStep:
    table: str
    pk: str
    label: str
    kind: str  # REMOVE, REVERT or RESTORE; "" when refused
    company_id: int | None = None
    before: dict = field(default_factory=dict)  # the values now
    after: dict = field(default_factory=dict)  # the values the undo writes
    refused: str = ""


@dataclass
class UndoPlan:
    operation: Operation
    steps: list[UndoStep]

    @property
    def writes(self) -> list[UndoStep]:
        return [s for s in self.steps if not s.refused]

    @property
    def refused(self) -> list[UndoStep]:
        return [s for s in self.steps if s.refused]

    @property
    def digest(self) -> str:
        payload = [(s.table, s.pk, s.kind, s.after, bool(s.refused)) for s in self.steps]
        text = json.dumps(payload, cls=DjangoJSONEncoder, sort_keys=True, default=str)
        return hashlib.sha256(f"{self.operation.pk}:{text}".encode()).hexdigest()


def check_undoable(op: Operation) -> None:
    if op.source not in UNDOABLE:
        raise UndoError(_("Only an import or a fix run can be undone."))
    undone = Operation.objects.filter(undo_of=op).select_related("user").first()
    if undone is not None:
        raise UndoError(
            _("This operation was already undone on %(time)s by %(user)s.")
            % {
                "time": local_time(undone.started_at),
                "user": undone.user.get_username() if undone.user else _("system"),
            }
        )


def plan_undo(*, op: Operation, lock: bool = False) -> UndoPlan:
    """Read-only: every reverse write, and every row that cannot be reverted (and why).

    ``lock`` (for ``apply_undo``) locks the rows read, so that what the plan compared is what
    it overwrites.
    """
    check_undoable(op)
    merged = _merged(operation_changes(operation=op))
    current = _current_rows(merged, lock=lock)
    steps = [_step(entry, current.get((entry["table"], entry["pk"]))) for entry in merged]
    _phone_number_rules(steps)
    return UndoPlan(operation=op, steps=steps)


def _merged(changes) -> list[dict]:
    """One entry per row: its first before-image and last after-image within the operation."""
    rows: dict[tuple, dict] = {}
    for change in changes:
        key = (change.table, change.object_pk)
        entry = rows.setdefault(
            key,
            {
                "table": change.table,
                "pk": change.object_pk,
                "label": change.object_repr,
                "first": change.action,
                "before": {},
                "after": {},
            },
        )
        entry["last"] = change.action
        for column, value in (change.before or {}).items():
            entry["before"].setdefault(column, value)
        entry["after"].update(change.after or {})
    return list(rows.values())


def _current_rows(merged, *, lock: bool) -> dict:
    by_table: dict[str, list] = {}
    for entry in merged:
        by_table.setdefault(entry["table"], []).append(entry["pk"])
    found = {}
    for table, pks in by_table.items():
        model = MODELS_BY_TABLE.get(table)
        if model is None:
            continue
        rows = model._base_manager.all()
        if lock:
            rows = rows.select_for_update()
        for pk, row in rows.in_bulk(_keys(model, pks)).items():
            found[(table, str(pk))] = row
    return found


def _keys(model, pks):
    return [model._meta.pk.to_python(pk) for pk in pks]


def _step(entry: dict, row) -> UndoStep:
    model = MODELS_BY_TABLE.get(entry["table"])
    step = UndoStep(entry["table"], entry["pk"], entry["label"], kind="")
    if model is None:
        step.refused = _("The console does not know this table.")
        return step
    created, removed = entry["first"] == "create", entry["last"] == "delete"
    soft = issubclass(model, SoftDeleteModel)
    if removed and not soft and not created:
        return _restore(step, model, entry, row)
    if row is None:
        step.refused = _("The row no longer exists.")
        return step
    step.company_id = getattr(row, "company_id", None)
    expected = entry["after"]
    now = values_of(row, list(expected))
    step.before = now
    differs = [c for c in expected if not same_value(model, c, now.get(c), expected[c])]
    if differs:
        column = differs[0]
        step.refused = _(
            "Changed since: %(column)s is now “%(now)s”, the operation wrote “%(then)s”."
        ) % {"column": column, "now": now[column], "then": expected[column]}
        return step
    if created:
        if any(getattr(row, column) for column in model.secret_columns()):
            step.refused = _(
                "The row holds a key that the history cannot keep: removing it would lose the "
                "key. Remove it by hand if that is intended."
            )
            return step
        step.kind, step.after = REMOVE, {}
        return step
    secrets = set(model.secret_columns()).intersection(entry["before"])
    if secrets:
        step.refused = _(
            "%(column)s holds a key: the history keeps only its fingerprint, so it cannot be "
            "put back. Set the key again on the integration."
        ) % {"column": sorted(secrets)[0]}
        return step
    step.kind, step.after = REVERT, dict(entry["before"])
    return step


def _restore(step, model, entry, row) -> UndoStep:
    if row is not None:
        step.refused = _("A row with this key exists again.")
        return step
    if any(entry["before"].get(c) for c in model.secret_columns()):
        step.refused = _("The row held a key, which the history cannot put back.")
        return step
    step.kind, step.after = RESTORE, dict(entry["before"])
    step.company_id = entry["before"].get("company_id")
    return step


def _phone_number_rules(steps: list[UndoStep]) -> None:
    """A number put back must still follow the gateway's rules (``integrations_app.phone``):
    no other row may claim it meanwhile, and its company keeps one primary number."""
    touched = {s.pk for s in steps if s.table == PhoneNumber._meta.db_table}
    back = [
        s
        for s in steps
        if s.table == PhoneNumber._meta.db_table and s.kind in (REVERT, RESTORE) and not s.refused
    ]
    if not back:
        return
    forms = {s.pk: claimed_forms({c: s.after.get(c) for c in ROUTING_COLUMNS}) for s in back}
    wanted = set().union(*forms.values())
    taken: dict[str, str] = {}
    if wanted:
        query = Q()
        for e164 in wanted:
            query |= duplicates_q(e164)
        for row in PhoneNumber.objects.filter(query).exclude(pk__in=touched).only(*ROUTING_COLUMNS):
            for e164 in claimed_forms(row) & wanted:
                taken[e164] = row.number
    company_of = {s.pk: s.after.get("company_id", s.company_id) for s in back}
    companies = {company_of[s.pk] for s in back if s.after.get("is_primary")}
    primaries = Counter(
        PhoneNumber.objects.filter(company_id__in=companies - {None}, is_primary=True)
        .exclude(pk__in=touched)
        .values_list("company_id", flat=True)
    )
    for step in back:
        clash = sorted(forms[step.pk] & set(taken))
        if clash:
            step.kind, step.refused = (
                "",
                _(
                    "%(number)s is now used by another number (%(other)s): the gateway would route "
                    "its calls to whichever row it finds first."
                )
                % {"number": clash[0], "other": taken[clash[0]]},
            )
        elif (
            step.after.get("is_primary") and primaries[company_of[step.pk]] >= PRIMARIES_PER_COMPANY
        ):
            step.kind, step.refused = "", _("The company has another primary number now.")


def apply_undo(
    *, op_id: int, digest: str, user=None, reason: str = "", partial: bool = False
) -> Operation:
    """Write the preview with ``digest``; UndoError (or StaleUndo) and nothing written if not.

    With refused rows the rest is written only when the person confirmed it (``partial``).
    """
    reason = " ".join((reason or "").split())
    if settings.CHANGE_REASON_REQUIRED and not reason:
        raise UndoError(_("Give a reason for this undo."))
    with transaction.atomic():
        op = Operation.objects.select_for_update().filter(pk=op_id).first()
        if op is None:
            raise UndoError(_("There is no such operation."))
        # One after the other with imports (they check numbers against what is there), and
        # the rows locked from the comparison to the write.
        hold_row_lock(ImportLock, name="phone-numbers")
        plan = plan_undo(op=op, lock=True)
        if plan.digest != digest:
            raise StaleUndo(plan)
        if not plan.writes:
            raise UndoError(_("Nothing can be undone: every row changed since."))
        if plan.refused and not partial:
            raise UndoError(_("Some rows cannot be undone: confirm undoing the others."))
        # Named by the undone operation's key (shown by its label: changelog/naming.py).
        name = undo_name(op.source, op.name)
        with operation(source=Source.UNDO, name=name, user=user, reason=reason, undo_of=op.pk):
            undo = _claim()
            _write(plan)
        return undo


def _claim() -> Operation:
    """The undo's own operation row; its unique ``undo_of`` lets only one undo through."""
    try:
        with transaction.atomic():
            return operation_row()
    except IntegrityError:
        raise UndoError(_("This operation was just undone by someone else.")) from None


def _write(plan: UndoPlan) -> None:
    groups: dict[tuple, list[UndoStep]] = {}
    for step in plan.writes:
        groups.setdefault((step.table, step.kind), []).append(step)
    for (table, kind), steps in groups.items():
        model = MODELS_BY_TABLE[table]
        if kind == REMOVE:
            delete_records(
                queryset=model._base_manager.filter(pk__in=_keys(model, [s.pk for s in steps]))
            )
        elif kind == REVERT:
            update_rows(
                model=model,
                values={model._meta.pk.to_python(s.pk): _python(model, s.after) for s in steps},
            )
        elif kind == RESTORE:
            create_rows(rows=[model(**_python(model, s.after)) for s in steps])


def _python(model, values: dict) -> dict:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return {
        column: fields[column].to_python(value) if column in fields else value
        for column, value in values.items()
    }


__all__ = ["StaleUndo", "UndoError", "UndoPlan", "apply_undo", "plan_undo"]
