"""Uploaded files kept between the preview and the confirm, server-side, per user."""

import secrets
import zlib
from datetime import timedelta

from django.utils import timezone

from integrations_app.models.imports import PhoneImportUpload
from integrations_app.phone_import import limits

KEPT_FOR = timedelta(days=1)


def keep(data: bytes, user) -> str:
    """Keep ``data`` for ``user`` (their earlier uploads, and anyone's older than a day, go)."""
    PhoneImportUpload.objects.filter(user=user).delete()
    PhoneImportUpload.objects.filter(created_at__lt=timezone.now() - KEPT_FOR).delete()
    key = secrets.token_urlsafe(24)
    PhoneImportUpload.objects.create(key=key, user=user, data=zlib.compress(data))
    return key


def load(key: str, user) -> bytes | None:
    """The file kept under ``key`` for ``user``, or None when it is gone."""
    found = PhoneImportUpload.objects.filter(key=key, user=user).values_list("data", flat=True)
    data = next(iter(found), None)
    return None if data is None else _unpacked(bytes(data))


def _unpacked(packed: bytes) -> bytes:
    """What ``keep`` packed, unpacked to at most one byte over the upload limit (then the reader
    says it is too large): a row changed in the database, or a lower limit since, cannot make
    this take more memory than an upload."""
    return zlib.decompressobj().decompress(packed, limits.max_bytes() + 1)


def discard(key: str) -> None:
    PhoneImportUpload.objects.filter(key=key).delete()
