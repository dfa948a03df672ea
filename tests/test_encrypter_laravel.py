"""The console's encrypter against Laravel's own Encrypter (PHP), in both directions.

semantics.md §1 is the contract: what the console writes, the gateway decrypts, and the reverse,
in both flavours, including a value the gateway encrypted under a key that is now a previous key.
All PHP work of this module runs in one php process (the `laravel` fixture).
"""

import pytest

from integrations_app.crypto.encrypter import RAW, SERIALIZED, Encrypter
from integrations_app.crypto.errors import DecryptionError
from integrations_app.crypto.keys import parse_app_key
from tests.support import TEST_APP_KEY, TEST_PREVIOUS_KEY

NEW_KEY, OLD_KEY = TEST_APP_KEY, TEST_PREVIOUS_KEY

VALUES = {
    "ascii": "cal_test_0123456789abcdefABCDEF",
    "non_ascii": "cal_test_äöü€",
    "quotes": 'key_test_"quoted";\\/slashes',
    "newline": "key_test_line\nbreak",
    "empty": "",
}
FLAVOURS = {SERIALIZED: ("encrypt", "decrypt"), RAW: ("encryptString", "decryptString")}
CASES = [(flavour, name) for flavour in FLAVOURS for name in VALUES]
CROSS_VALUE = VALUES["non_ascii"]


def console(*keys: str) -> Encrypter:
    current, *previous = (parse_app_key(key) for key in keys)
    return Encrypter(current, previous)


def console_encrypt(encrypter: Encrypter, flavour: str, value: str) -> str:
    return encrypter.encrypt(value) if flavour == SERIALIZED else encrypter.encrypt_string(value)


def console_decrypt(encrypter: Encrypter, flavour: str, payload: str) -> str:
    return (
        encrypter.decrypt(payload) if flavour == SERIALIZED else encrypter.decrypt_string(payload)
    )


@pytest.fixture(scope="module")
def laravel(php):
    """Every Laravel operation of this module, in one php process, keyed by what it proves."""
    ours = console(NEW_KEY)
    payloads = {(f, n): console_encrypt(ours, f, VALUES[n]) for f, n in CASES}
    payloads |= {
        ("cross", "decryptString"): ours.encrypt(CROSS_VALUE),
        ("cross", "decrypt"): ours.encrypt_string(CROSS_VALUE),
    }
    plan = {}
    for flavour, name in CASES:
        encrypt, decrypt = FLAVOURS[flavour]
        plan["decrypts", flavour, name] = (NEW_KEY, decrypt, payloads[flavour, name])
        plan["encrypts", flavour, name] = (NEW_KEY, encrypt, VALUES[name])
        plan["encrypts_old", flavour, name] = (OLD_KEY, encrypt, VALUES[name])
    for action in ("decryptString", "decrypt"):
        plan["cross", action] = (NEW_KEY, action, payloads["cross", action])
    results = php.run([{"key": k, "action": a, "value": v} for k, a, v in plan.values()])
    return {"payloads": payloads} | dict(zip(plan, results, strict=True))


@pytest.mark.parametrize(("flavour", "name"), CASES)
def test_laravel_decrypts_what_the_console_encrypts(laravel, flavour, name):
    result = laravel["decrypts", flavour, name]
    assert result.ok, result
    assert (result.type, result.value) == ("string", VALUES[name])
    assert laravel["payloads"][flavour, name].startswith("eyJ")


@pytest.mark.parametrize(("flavour", "name"), CASES)
def test_the_console_decrypts_what_laravel_encrypts(laravel, flavour, name):
    result = laravel["encrypts", flavour, name]
    assert result.ok, result
    payload = result.value
    assert payload.startswith("eyJ")
    ours = console(NEW_KEY)
    assert console_decrypt(ours, flavour, payload) == VALUES[name]
    found = ours.inspect(payload)
    assert (found.value, found.flavour, found.key_index) == (VALUES[name], flavour, 0)


@pytest.mark.parametrize(("flavour", "name"), CASES)
def test_a_value_laravel_encrypted_under_a_now_previous_key_decrypts(laravel, flavour, name):
    payload = laravel["encrypts_old", flavour, name].value
    rotated = console(NEW_KEY, OLD_KEY)
    assert console_decrypt(rotated, flavour, payload) == VALUES[name]
    found = rotated.inspect(payload)
    assert (found.value, found.flavour, found.key_index) == (VALUES[name], flavour, 1)
    with pytest.raises(DecryptionError) as error:
        console_decrypt(console(NEW_KEY), flavour, payload)
    assert error.value.reason == "mac_mismatch"


def test_the_settings_keys_read_a_laravel_value_under_the_previous_key(laravel, gateway_key):
    payload = laravel["encrypts_old", SERIALIZED, "non_ascii"].value
    found = Encrypter.from_settings().inspect(payload)
    assert (found.value, found.key_index) == (VALUES["non_ascii"], 1)


def test_laravel_hands_out_the_serialized_wrapper_where_the_console_refuses(laravel):
    """The production failure: decryptString() of an encrypt() value is the literal wrapper."""
    result = laravel["cross", "decryptString"]
    size = len(CROSS_VALUE.encode("utf-8"))
    assert size == 18
    assert result.ok and result.value == f's:{size}:"{CROSS_VALUE}";'
    with pytest.raises(DecryptionError) as error:
        console(NEW_KEY).decrypt_string(laravel["payloads"]["cross", "decryptString"])
    assert error.value.reason == "wrong_flavour"


def test_laravel_throws_on_a_raw_value_read_as_serialized_and_so_does_the_console(laravel):
    result = laravel["cross", "decrypt"]
    assert not result.ok
    assert "unserialize" in result.message
    with pytest.raises(DecryptionError) as error:
        console(NEW_KEY).decrypt(laravel["payloads"]["cross", "decrypt"])
    assert error.value.reason == "wrong_flavour"
