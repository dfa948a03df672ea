"""Laravel's Illuminate\\Encryption\\Encrypter (AES-256-CBC, HMAC-SHA256), on `cryptography`.

Payload: base64 of JSON {"iv": b64, "value": b64(ciphertext), "mac": hex, "tag": ""}, the MAC
being HMAC-SHA256 over the base64 texts iv + value. Two flavours that are not interchangeable
(semantics.md §1): `encrypt` serializes the string PHP-style first, `encrypt_string` does not.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.views.decorators.debug import sensitive_variables

from integrations_app.crypto import php_string
from integrations_app.crypto.errors import DecryptionError
from integrations_app.crypto.keys import configured_keys

SERIALIZED = "serialized"  # Laravel encrypt()/decrypt()
RAW = "raw"  # Laravel encryptString()/decryptString()
_IV_BYTES = 16


@dataclass(frozen=True)
class Decrypted:
    value: str
    flavour: str  # SERIALIZED or RAW
    key_index: int  # 0: the current key; 1, 2, ...: the previous keys in order


class Encrypter:
    def __init__(self, key: bytes, previous_keys: list[bytes] | tuple[bytes, ...] = ()):
        self._keys = (key, *previous_keys)

    @classmethod
    def from_settings(cls) -> "Encrypter":
        """From GATEWAY_APP_KEY / GATEWAY_PREVIOUS_KEYS; GatewayKeyError when unusable."""
        current, previous = configured_keys()
        return cls(current, previous)

    # -- the two flavours -------------------------------------------------------------------

    @sensitive_variables()
    def encrypt(self, value: str) -> str:
        """Laravel's encrypt(): for companies.* and tenants.* secret columns."""
        return self._encrypt(php_string.serialize(value))

    def decrypt(self, payload: str) -> str:
        """Laravel's decrypt(); DecryptionError for a raw-flavour value."""
        return php_string.unserialize(self._decrypt(payload)[0])

    @sensitive_variables()
    def encrypt_string(self, value: str) -> str:
        """Laravel's encryptString(): for the integrations.* secret columns."""
        return self._encrypt(value.encode("utf-8"))

    def decrypt_string(self, payload: str) -> str:
        """Laravel's decryptString(); DecryptionError for a serialized-flavour value.

        Laravel itself would hand back the literal `s:NN:"...";` wrapper as the key, a failure
        seen in production; the console refuses it instead.
        """
        plaintext, _key_index = self._decrypt(payload)
        if php_string.is_serialized_string(plaintext):
            raise DecryptionError("wrong_flavour")
        return _text(plaintext)

    def inspect(self, payload: str) -> Decrypted:
        """Decrypt whatever flavour is stored and tell which flavour and which key it was."""
        plaintext, key_index = self._decrypt(payload)
        return _inspected(plaintext, key_index)

    @sensitive_variables()
    def inspect_many(self, payloads) -> dict[str, "Decrypted | DecryptionError"]:
        """inspect() of many payloads (the audit opens every stored key at once): each distinct
        payload mapped to what inspect() returns, or to the DecryptionError it raises (a new
        one, without the traceback that would keep this frame and its payloads alive)."""
        found: dict = {}
        for payload in payloads:
            if payload in found:
                continue
            try:
                found[payload] = self.inspect(payload)
            except DecryptionError as error:
                found[payload] = DecryptionError(error.reason)
        return found

    # -- the payload ------------------------------------------------------------------------

    @sensitive_variables()
    def _encrypt(self, plaintext: bytes) -> str:
        key = self._keys[0]
        iv = os.urandom(_IV_BYTES)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        iv_b64 = base64.b64encode(iv).decode("ascii")
        value_b64 = base64.b64encode(ciphertext).decode("ascii")
        payload = {"iv": iv_b64, "value": value_b64, "mac": _mac(key, iv_b64, value_b64), "tag": ""}
        return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    @sensitive_variables()
    def _decrypt(self, payload: str) -> tuple[bytes, int]:
        fields = _fields(payload)
        iv_b64, value_b64, mac = fields["iv"], fields["value"], fields["mac"]
        for index, key in enumerate(self._keys):
            if hmac.compare_digest(_mac(key, iv_b64, value_b64), mac):
                return _aes_decrypt(key, fields), index
        raise DecryptionError("mac_mismatch")


def _mac(key: bytes, iv_b64: str, value_b64: str) -> str:
    return hmac.new(key, (iv_b64 + value_b64).encode("utf-8"), hashlib.sha256).hexdigest()


# The payload as Laravel (and the console) writes it, parsed without the JSON decoder.
_LARAVEL_JSON = re.compile(
    rb'\{"iv":"([A-Za-z0-9+/=]*)","value":"([A-Za-z0-9+/=]*)","mac":"([0-9a-f]*)","tag":""\}'
)


def _fields(payload: str) -> dict:
    try:
        raw = base64.b64decode((payload or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("not_base64") from None
    shaped = _LARAVEL_JSON.fullmatch(raw)
    if shaped:  # what json.loads makes of it: no escape can occur in these characters
        iv, value, mac = (part.decode("ascii") for part in shaped.groups())
        data = {"iv": iv, "value": value, "mac": mac, "tag": ""}
    else:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            raise DecryptionError("not_json") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(name), str) for name in ("iv", "value", "mac")
    ):
        raise DecryptionError("missing_field")
    if data.get("tag"):
        raise DecryptionError("bad_tag")
    try:
        data["iv_bytes"] = base64.b64decode(data["iv"], validate=True)
        data["ciphertext"] = base64.b64decode(data["value"], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("not_base64") from None
    if len(data["iv_bytes"]) != _IV_BYTES:
        raise DecryptionError("bad_iv")
    return data


def _aes_decrypt(key: bytes, fields: dict) -> bytes:
    ciphertext = fields["ciphertext"]
    if not ciphertext or len(ciphertext) % 16:
        raise DecryptionError("bad_padding")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(fields["iv_bytes"])).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DecryptionError("bad_padding") from None


def _inspected(plaintext: bytes, key_index: int) -> Decrypted:
    if php_string.is_serialized_string(plaintext):
        return Decrypted(php_string.unserialize(plaintext), SERIALIZED, key_index)
    return Decrypted(_text(plaintext), RAW, key_index)


def _text(plaintext: bytes) -> str:
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("not_text") from None
