"""The test-only gateway keys and the secrets written under them, in both of Laravel's flavours.

Encryption is the console's own Encrypter (integrations_app/crypto/encrypter.py). Its IVs come
from os.urandom; for a dataset that is the same on every run with the same --seed,
``seeded_ivs`` hands it IVs from the seeded stream while the data is generated (test data
under a fake key only).
"""

import base64
import binascii
import json
import random
from contextlib import contextmanager
from types import SimpleNamespace

from integrations_app.crypto import encrypter as encrypter_module
from integrations_app.crypto.encrypter import Encrypter

# Obviously fake 32-byte keys in Laravel's form (APP_KEY=base64:...).
DEFAULT_KEY = "base64:" + base64.b64encode(b"bench_test_key_NOT_FOR_PROD_0001").decode()
DEFAULT_PREVIOUS_KEY = "base64:" + base64.b64encode(b"bench_test_key_NOT_FOR_PROD_prev").decode()
# A key nobody has: values under it are what a lost APP_KEY leaves behind.
LOST_KEY = b"bench_lost_key_nobody_has_it_000"

# How a stored secret is written (the gaps first, "ok" the rest).
OK = "ok"  # the column's flavour under the current key
PREVIOUS = "previous_key"  # the column's flavour under the previous key (readable with it)
WRONG_FLAVOUR = "wrong_flavour"  # the other function's flavour: the gateway misreads it
LOST = "lost_key"  # under a key neither current nor previous
GARBAGE = "garbage"  # starts like a payload (eyJ...) but is damaged
PLAIN_IN_ENCRYPTED = "plain_text"  # a key pasted in plain text (integrations only: no CHECK)


def parse_key(text: str) -> bytes:
    """`base64:<44 characters>` to its 32 bytes; ValueError with a one-line reason."""
    if not text.startswith("base64:"):
        raise ValueError("a key must look like base64:<44 characters> (Laravel's APP_KEY)")
    try:
        key = base64.b64decode(text[7:], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after base64: is not valid base64") from None
    if len(key) != 32:
        raise ValueError(f"a key must decode to 32 bytes (AES-256-CBC), not {len(key)}")
    return key


@contextmanager
def seeded_ivs(rng: random.Random):
    """The Encrypter's IVs from ``rng`` for the duration (restores os.urandom afterwards)."""
    original = encrypter_module.os
    encrypter_module.os = SimpleNamespace(urandom=rng.randbytes)
    try:
        yield
    finally:
        encrypter_module.os = original


class Secrets:
    """Writes a plaintext key the way a column holds it, in one of the states above."""

    def __init__(self, current: bytes, previous: bytes, rng: random.Random):
        self.current = Encrypter(current)
        self.previous = Encrypter(previous)
        self.lost = Encrypter(LOST_KEY)
        self.rng = rng

    def serialized(self, value: str, state: str = OK) -> str:
        """For companies.calcom_api_key / retell_api_key (Laravel encrypt())."""
        return self._write(value, state, serialized=True)

    def raw(self, value: str, state: str = OK) -> str:
        """For the integrations' secret columns (Laravel encryptString())."""
        return self._write(value, state, serialized=False)

    def _write(self, value: str, state: str, serialized: bool) -> str:
        if state == PLAIN_IN_ENCRYPTED:
            return value
        if state == GARBAGE:
            return self._garbage(value)
        encrypter = {PREVIOUS: self.previous, LOST: self.lost}.get(state, self.current)
        if state == WRONG_FLAVOUR:
            serialized = not serialized
        return encrypter.encrypt(value) if serialized else encrypter.encrypt_string(value)

    def _garbage(self, value: str) -> str:
        """Damaged payloads that still start with eyJ (the companies' CHECK constraints)."""
        payload = self.current.encrypt_string(value)
        kind = self.rng.randrange(3)
        if kind == 0:  # the MAC of another value
            fields = json.loads(base64.b64decode(payload))
            fields["mac"] = "0" * 64
            return base64.b64encode(json.dumps(fields).encode()).decode()
        if kind == 1:  # cut off (a too-short column, a bad copy)
            return payload[: len(payload) // 2]
        return base64.b64encode(b'{"iv":"","value":"","mac":""}').decode()  # empty fields
