"""The Laravel-compatible encrypter alone: flavours, every malformed payload, keys, fingerprints.

What Laravel itself makes of the payloads is proven in test_encrypter_laravel.py.
"""

import base64
import hashlib
import hmac
import json
import os

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
from integrations_app.crypto.errors import REASONS, DecryptionError, GatewayKeyError
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.crypto.keys import configured_keys, parse_app_key
from tests.support import TEST_APP_KEY, TEST_PREVIOUS_KEY

KEY = parse_app_key(TEST_APP_KEY)
OLD_KEY = parse_app_key(TEST_PREVIOUS_KEY)
SECRET = "cal_test_äöü€_0123456789"


@pytest.fixture
def encrypter():
    return Encrypter(KEY)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def payload_of(fields: dict) -> str:
    return b64(json.dumps(fields, separators=(",", ":")).encode())


def fields_of(payload: str) -> dict:
    return json.loads(base64.b64decode(payload))


def sealed(plaintext: bytes, key: bytes = KEY, *, pad: bool = True, tag: str = "") -> str:
    """A payload as Laravel builds it, from any plaintext (padded or deliberately not)."""
    iv = os.urandom(16)
    if pad:
        padder = padding.PKCS7(128).padder()
        plaintext = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    iv_b64, value_b64 = b64(iv), b64(encryptor.update(plaintext) + encryptor.finalize())
    mac = hmac.new(key, (iv_b64 + value_b64).encode(), hashlib.sha256).hexdigest()
    return payload_of({"iv": iv_b64, "value": value_b64, "mac": mac, "tag": tag})


def reason_of(call, payload: str) -> str:
    with pytest.raises(DecryptionError) as error:
        call(payload)
    assert error.value.reason in REASONS
    assert str(error.value.message)  # a readable text for every reason
    return error.value.reason


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [SECRET, "", "x" * 1000, 's:3:"abc";'])
def test_the_serialized_flavour_round_trips(encrypter, value):
    payload = encrypter.encrypt(value)
    assert payload.startswith("eyJ")
    assert encrypter.decrypt(payload) == value
    assert encrypter.inspect(payload).flavour == SERIALIZED


@pytest.mark.parametrize("value", [SECRET, "", "x" * 1000, "i:5;"])
def test_the_raw_flavour_round_trips(encrypter, value):
    payload = encrypter.encrypt_string(value)
    assert payload.startswith("eyJ")
    assert encrypter.decrypt_string(payload) == value
    assert encrypter.inspect(payload).flavour == RAW


def test_the_payload_is_laravels_shape(encrypter):
    fields = fields_of(encrypter.encrypt(SECRET))
    assert list(fields) == ["iv", "value", "mac", "tag"]
    assert len(base64.b64decode(fields["iv"])) == 16
    assert fields["tag"] == ""
    assert len(fields["mac"]) == 64 and fields["mac"] == fields["mac"].lower()


def test_each_encryption_uses_a_fresh_iv(encrypter):
    assert encrypter.encrypt(SECRET) != encrypter.encrypt(SECRET)


def test_the_serialized_flavour_counts_bytes_not_characters(encrypter):
    by_bytes = f's:{len(SECRET.encode())}:"{SECRET}";'.encode()
    by_chars = f's:{len(SECRET)}:"{SECRET}";'.encode()
    assert encrypter.decrypt(sealed(by_bytes)) == SECRET
    assert reason_of(encrypter.decrypt, sealed(by_chars)) == "wrong_flavour"


def test_a_previous_key_decrypts_and_is_reported(encrypter):
    old_payload = Encrypter(OLD_KEY).encrypt_string(SECRET)
    rotated = Encrypter(KEY, [OLD_KEY])
    assert rotated.decrypt_string(old_payload) == SECRET
    assert rotated.inspect(old_payload).key_index == 1
    assert rotated.inspect(rotated.encrypt_string(SECRET)).key_index == 0
    # Previous keys are never used for encrypting.
    assert encrypter.decrypt_string(rotated.encrypt_string(SECRET)) == SECRET


# -- every malformed payload: one error type, the right reason ------------------------------------


def test_not_base64(encrypter):
    assert reason_of(encrypter.decrypt, "not base64 at all!") == "not_base64"
    assert reason_of(encrypter.decrypt_string, "eyJpdiI") == "not_base64"  # cut short
    assert reason_of(encrypter.decrypt_string, "eyJpdiI6") == "not_json"  # whole, but no JSON


def test_empty_and_none_are_refused(encrypter):
    for value in ("", None):
        with pytest.raises(DecryptionError):
            encrypter.inspect(value)


def test_base64_but_not_json(encrypter):
    assert reason_of(encrypter.decrypt, b64(b"plain text, no JSON")) == "not_json"
    assert reason_of(encrypter.decrypt, b64(b"\xff\xfe\x00binary")) == "not_json"


@pytest.mark.parametrize("missing", ["iv", "value", "mac"])
def test_json_missing_a_field(encrypter, missing):
    fields = fields_of(encrypter.encrypt(SECRET))
    del fields[missing]
    assert reason_of(encrypter.decrypt, payload_of(fields)) == "missing_field"


def test_json_that_is_not_an_object(encrypter):
    assert reason_of(encrypter.decrypt, b64(b'["iv", "value", "mac"]')) == "missing_field"
    fields = fields_of(encrypter.encrypt(SECRET)) | {"mac": 12}
    assert reason_of(encrypter.decrypt, payload_of(fields)) == "missing_field"


@pytest.mark.parametrize("size", [8, 15, 17, 32])
def test_an_iv_that_is_not_16_bytes(encrypter, size):
    fields = fields_of(encrypter.encrypt(SECRET)) | {"iv": b64(os.urandom(size))}
    assert reason_of(encrypter.decrypt, payload_of(fields)) == "bad_iv"


def test_an_iv_or_value_that_is_not_base64(encrypter):
    fields = fields_of(encrypter.encrypt(SECRET))
    assert reason_of(encrypter.decrypt, payload_of(fields | {"iv": "%%%"})) == "not_base64"
    assert reason_of(encrypter.decrypt, payload_of(fields | {"value": "%%%"})) == "not_base64"


def test_a_tampered_value_is_a_mac_mismatch(encrypter):
    fields = fields_of(encrypter.encrypt(SECRET))
    ciphertext = bytearray(base64.b64decode(fields["value"]))
    ciphertext[0] ^= 1
    tampered = payload_of(fields | {"value": b64(bytes(ciphertext))})
    assert reason_of(encrypter.decrypt, tampered) == "mac_mismatch"


def test_a_tampered_mac_is_a_mac_mismatch(encrypter):
    fields = fields_of(encrypter.encrypt(SECRET))
    tampered = payload_of(fields | {"mac": "0" * 64})
    assert reason_of(encrypter.decrypt, tampered) == "mac_mismatch"


def test_the_wrong_key_is_a_mac_mismatch(encrypter):
    other = Encrypter(OLD_KEY)
    assert reason_of(encrypter.decrypt, other.encrypt(SECRET)) == "mac_mismatch"
    assert reason_of(encrypter.decrypt_string, other.encrypt_string(SECRET)) == "mac_mismatch"


def test_bad_padding_under_a_valid_mac(encrypter):
    # 16 bytes whose last byte (0x00) is no valid PKCS7 padding, sealed with a correct MAC.
    assert reason_of(encrypter.decrypt, sealed(b"A" * 15 + b"\x00", pad=False)) == "bad_padding"
    assert reason_of(encrypter.decrypt, sealed(b"A" * 14 + b"\x01\x02", pad=False)) == (
        "bad_padding"
    )


def test_a_ciphertext_that_is_not_whole_blocks(encrypter):
    iv_b64, value_b64 = b64(os.urandom(16)), b64(os.urandom(20))
    mac = hmac.new(KEY, (iv_b64 + value_b64).encode(), hashlib.sha256).hexdigest()
    payload = payload_of({"iv": iv_b64, "value": value_b64, "mac": mac, "tag": ""})
    assert reason_of(encrypter.decrypt, payload) == "bad_padding"


def test_wrong_flavour_both_ways(encrypter):
    assert reason_of(encrypter.decrypt_string, encrypter.encrypt(SECRET)) == "wrong_flavour"
    assert reason_of(encrypter.decrypt, encrypter.encrypt_string(SECRET)) == "wrong_flavour"


@pytest.mark.parametrize(
    "serialized", [b"i:5;", b'a:1:{i:0;s:1:"x";}', b'O:8:"stdClass":0:{}', b"b:1;", b"N;"]
)
def test_a_serialized_non_string_is_refused_never_evaluated(encrypter, serialized):
    payload = sealed(serialized)
    assert reason_of(encrypter.decrypt, payload) == "not_a_string"


def test_a_serialized_string_with_a_wrong_length_is_refused(encrypter):
    assert reason_of(encrypter.decrypt, sealed(b's:9:"abc";')) == "wrong_flavour"


def test_raw_bytes_that_are_not_utf8(encrypter):
    assert reason_of(encrypter.decrypt_string, sealed(b"\xff\xfe\xfd")) == "not_text"
    assert reason_of(encrypter.decrypt, sealed(b's:3:"\xff\xfe\xfd";')) == "not_text"


def test_a_non_empty_tag_is_refused(encrypter):
    fields = fields_of(encrypter.encrypt(SECRET)) | {"tag": b64(os.urandom(16))}
    assert reason_of(encrypter.decrypt, payload_of(fields)) == "bad_tag"


def test_errors_never_carry_the_secret(encrypter):
    payload = encrypter.encrypt(SECRET)
    with pytest.raises(DecryptionError) as error:
        encrypter.decrypt_string(payload)
    assert SECRET not in str(error.value) and SECRET not in repr(error.value.args)


# -- keys ------------------------------------------------------------------------------------------


def test_parse_app_key_accepts_laravels_form():
    text = "base64:" + b64(b"k" * 32)
    assert len(text) == 7 + 44
    assert parse_app_key(text) == b"k" * 32
    assert parse_app_key(f"  {text}\n") == b"k" * 32


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        "base64:" + b64(b"k" * 16),  # AES-128 length
        "base64:" + b64(b"k" * 31),
        "base64:" + b64(b"k" * 33),
        "base64:not*valid*base64!",
        "base64:",
        "too short",
    ],
)
def test_parse_app_key_refuses_unusable_keys(text):
    with pytest.raises(GatewayKeyError) as error:
        parse_app_key(text)
    assert "GATEWAY_APP_KEY" in str(error.value)


def test_configured_keys_come_from_the_settings(gateway_key):
    assert configured_keys() == (KEY, [OLD_KEY])


def test_a_malformed_previous_key_is_named(settings):
    settings.GATEWAY_APP_KEY = TEST_APP_KEY
    settings.GATEWAY_PREVIOUS_KEYS = [TEST_PREVIOUS_KEY, "base64:short"]
    with pytest.raises(GatewayKeyError) as error:
        configured_keys()
    assert "GATEWAY_PREVIOUS_KEYS[1]" in str(error.value)


def test_from_settings_refuses_a_missing_key(settings):
    settings.GATEWAY_APP_KEY = ""
    with pytest.raises(GatewayKeyError):
        Encrypter.from_settings()


# -- fingerprints ----------------------------------------------------------------------------------


def test_fingerprints_are_deterministic_short_and_distinct():
    first = fingerprint(SECRET)
    assert first == fingerprint(SECRET)
    assert len(first) == 14
    assert first != fingerprint(SECRET + "x")
    assert first != fingerprint("cal_test_other")


def test_fingerprints_do_not_contain_the_secret():
    for secret in (SECRET, "abcd", "0123-4567-89ab", "cal_" + "a" * 60):
        assert secret not in fingerprint(secret)
        assert fingerprint(secret) != secret[:14]


def test_fingerprints_are_keyed_by_the_consoles_secret_key(settings):
    first = fingerprint(SECRET)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert fingerprint(SECRET) != first


def test_inspect_many_gives_what_inspect_gives_for_every_payload():
    """The audit opens every stored key at once: each payload maps to what inspect() returns,
    or to the error it raises."""
    current, old = Encrypter(KEY), Encrypter(OLD_KEY)
    both = Encrypter(KEY, [OLD_KEY])
    iv_b64, odd_b64 = b64(os.urandom(16)), b64(os.urandom(20))
    odd_mac = hmac.new(KEY, (iv_b64 + odd_b64).encode(), hashlib.sha256).hexdigest()
    payloads = [
        current.encrypt(SECRET), current.encrypt_string(SECRET), old.encrypt(SECRET),
        old.encrypt_string("x" * 16), current.encrypt_string(""), current.encrypt("é" * 40),
        Encrypter(os.urandom(32)).encrypt(SECRET),  # no key opens it
        sealed(b"A" * 15 + b"\x00", pad=False), sealed(b"A" * 14 + b"\x01\x02", pad=False),
        sealed(b"\x10" * 15 + b"\x11", pad=False), sealed(b"\xff\xfe\xfd"), sealed(b"i:5;"),
        sealed(b's:9:"abc";'), sealed(b"x" * 32), sealed(b"y" * 31 + b"\x01", pad=False),
        payload_of({"iv": iv_b64, "value": odd_b64, "mac": odd_mac, "tag": ""}),
        "not base64!", b64(b"not json"), payload_of({"iv": "AAAA", "value": "", "mac": ""}),
        current.encrypt(SECRET) + "\n",
    ]  # fmt: skip
    many = both.inspect_many(payloads + payloads[:3])  # repeated payloads: opened once
    assert set(many) == set(payloads)
    kinds = set()
    for payload in payloads:
        try:
            expected = both.inspect(payload)
        except DecryptionError as error:
            assert isinstance(many[payload], DecryptionError)
            assert many[payload].reason == error.reason
            kinds.add(error.reason)
        else:
            assert many[payload] == expected
            kinds.add((expected.flavour, expected.key_index))
    assert {("serialized", 0), ("raw", 0), ("serialized", 1), ("raw", 1)} <= kinds
    assert {"mac_mismatch", "bad_padding", "not_text", "not_base64", "not_json"} <= kinds
