"""An upload is kept only up to the import's size limit + 1 byte, however large the request."""

import io

from django.core.files.uploadhandler import load_handler
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory

from tests.test_phone_import_admin import upload, world  # noqa: F401 (the fixture)

BOUNDARY = "BoUnDaRy"


def multipart(name: str, payload: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + payload + f"\r\n--{BOUNDARY}--\r\n".encode()


def parsed_file(settings, payload: bytes, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body = multipart("big.csv", payload)
    request = RequestFactory().post("/", data=b"", content_type="text/plain")
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
    }
    handlers = [load_handler(path, request) for path in settings.FILE_UPLOAD_HANDLERS]
    _, files = MultiPartParser(meta, io.BytesIO(body), handlers).parse()
    return files["file"]


def test_a_huge_upload_keeps_only_one_byte_over_the_limit(settings, tmp_path):
    settings.PHONE_IMPORT_MAX_BYTES = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # the temporary-file path, the one that fills disks
    kept = parsed_file(settings, b"x" * 3_000_000, tmp_path)
    assert kept.size == 1001
    assert kept.read() == b"x" * 1001


def test_a_file_within_the_limit_is_kept_whole(settings, tmp_path):
    settings.PHONE_IMPORT_MAX_BYTES = 5000
    payload = bytes(range(256)) * 10  # 2,560 bytes, every byte value
    assert parsed_file(settings, payload, tmp_path).read() == payload


def test_the_import_page_says_too_large_for_a_huge_upload(admin_client, world, settings):  # noqa: F811
    settings.PHONE_IMPORT_MAX_BYTES = 1000
    response = upload(admin_client, b"company;number\n" + b"x;030 1234567\n" * 200_000)
    text = response.content.decode()
    assert response.status_code == 200
    assert "larger than 1000 B" in text
