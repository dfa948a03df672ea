"""The one path of a phone-number import, for the admin and the command alike.

read (reader.py) -> check every row (validate.py) -> write all or nothing (write.py) -> record.
"""

import hashlib
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, OperationalError, router, transaction
from django.utils.translation import gettext as _

from changelog.models import Source
from changelog.recording import operation
from integrations_app.locks import hold_row_lock
from integrations_app.models import ImportLock, PhoneImport, PhoneNumber
from integrations_app.phone_import.errors import ImportConflict, ImportFileError, ReasonRequired
from integrations_app.phone_import.plan import ImportPlan
from integrations_app.phone_import.reader import Table, read_table
from integrations_app.phone_import.validate import validate
from integrations_app.phone_import.write import write_plan
from integrations_app.services.phone_imports import NumbersChanged


@dataclass
class ImportResult:
    plan: ImportPlan
    record: PhoneImport | None  # None for a dry run
    checksum: str

    @property
    def written(self) -> bool:
        return self.record is not None and self.record.outcome == "imported"


def check_region(region: str) -> str:
    code = (region or "").strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ImportFileError(
            _("“%(region)s” is not a region code such as DE, AT or CH.") % {"region": region}
        )
    return code


def preview_phone_numbers(*, data: bytes, region: str = "DE") -> ImportPlan:
    """Every row's status and errors; writes nothing (ImportFileError for an unreadable file)."""
    region = check_region(region)
    return validate(read_table(data), region=region)


def checksum_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_phone_numbers(*, data: bytes, **options) -> ImportResult:
    """``import_table`` for the bytes of a CSV or XLSX file (ImportFileError if unreadable)."""
    return import_table(table=read_table(data), checksum=checksum_of(data), **options)


def import_table(
    *,
    table: Table,
    checksum: str,
    file_name: str,
    region: str = "DE",
    user=None,
    source: str = "admin",
    reason: str = "",
    dry_run: bool = False,
    expected_digest: str | None = None,
    before_commit=None,
) -> ImportResult:
    """Check ``table`` and, unless ``dry_run`` or any row has an error, write every row.

    All or nothing, in one transaction with its record. With ``expected_digest`` (the digest of
    a preview the user confirmed) nothing is written if the plan is no longer the same: the
    result's plan is then the new preview (``record`` None).

    Everything it writes is one operation of the change store (source "import", named after
    the file, with ``user`` and ``reason``); ``source`` only labels the import's record (the
    admin, a command). With ``settings.CHANGE_REASON_REQUIRED`` an import without a reason
    raises ``ReasonRequired`` and writes nothing.

    ``before_commit(record)`` runs inside the transaction once the record (and the rows) are
    written: a background job marks itself done there, and whatever it raises rolls the whole
    import back.
    """
    region = check_region(region)
    reason = " ".join(str(reason or "").split())
    if not dry_run and not reason and settings.CHANGE_REASON_REQUIRED:
        raise ReasonRequired(reason_required_message())
    database = router.db_for_write(PhoneNumber)
    try:
        with (
            operation(source=Source.IMPORT, name=file_name, user=user, reason=reason),
            transaction.atomic(using=database),
        ):
            result = _import_locked(
                table, checksum, file_name, region, user, source, reason, dry_run, expected_digest
            )
            if before_commit is not None and result.record is not None:
                before_commit(result.record)
            return result
    except (IntegrityError, OperationalError, NumbersChanged) as error:
        # Another writer (a form, a fix) added or changed one of these numbers after the check,
        # or the database broke a deadlock or a lock wait: rolled back, nothing is written.
        if isinstance(error, OperationalError) and error.args[:1] not in _LOCK_ERRORS:
            raise
        raise ImportConflict(
            _(
                "The phone numbers changed while the file was being imported, so nothing was "
                "imported: check the preview again."
            )
        ) from None


_LOCK_ERRORS = {(1205,), (1213,)}  # MySQL/MariaDB: lock wait timeout, deadlock


def reason_required_message() -> str:
    return _("Give a reason for this import: a reason is required for every change.")


def _import_locked(
    table, checksum, file_name, region, user, source, reason, dry_run, expected_digest
):
    """Check, and unless a dry run, record and write; inside the caller's transaction."""
    if not dry_run:
        hold_row_lock(ImportLock, name="phone-numbers")  # imports one after the other
    plan = validate(table, region=region)
    if dry_run or (expected_digest is not None and plan.digest != expected_digest):
        return ImportResult(plan=plan, record=None, checksum=checksum)
    counts = plan.counts
    record = PhoneImport.objects.create(
        imported_by=user if getattr(user, "pk", None) else None,
        source=source[:60],
        reason=reason[:255],
        file_name=file_name[:255],
        checksum=checksum,
        region=region,
        outcome="rejected" if plan.has_errors else "imported",
        row_count=len(plan.rows),
        new_count=counts["new"],
        updated_count=counts["update"],
        unchanged_count=counts["unchanged"],
        error_count=counts["error"],
    )
    if not plan.has_errors:
        write_plan(plan, record, user=user)
    return ImportResult(plan=plan, record=record, checksum=checksum)
