"""Laravel's own Encrypter, run by PHP, as the judge of what the console encrypts.

Debian's `php-cli` and `php-illuminate-encryption` (Laravel 8.83's Encrypter: the same payload
format and both flavours as the gateway's Laravel 11, without previous-key support) are installed
by scripts/test.sh. One php process serves a whole batch of operations, so keep calls few.
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "php" / "laravel_crypt.php"
AUTOLOAD = Path("/usr/share/php/Illuminate/Encryption/autoload.php")
INSTALL = "sudo apt-get install -y php-cli php-illuminate-encryption"


@dataclass(frozen=True)
class Result:
    ok: bool
    value: object = None  # what Laravel returned (a string for every call the tests make)
    type: str = ""  # PHP's type of the value
    error: str = ""  # the exception class when not ok
    message: str = ""


class Laravel:
    """`Illuminate\\Encryption\\Encrypter` through tests/php/laravel_crypt.php."""

    def __init__(self, php: str, autoload: Path):
        self.php, self.autoload = php, autoload

    def run(self, commands: list[dict]) -> list[Result]:
        """Each command: {"key": "base64:...", "action": encrypt|decrypt|encryptString|
        decryptString, "value": str}; one php process for all of them."""
        completed = subprocess.run(
            [self.php, str(SCRIPT), str(self.autoload)],
            input=json.dumps(commands),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"php failed ({completed.returncode}): {completed.stderr[-2000:]}")
        return [Result(**item) for item in json.loads(completed.stdout)]

    def one(self, key: str, action: str, value: str) -> Result:
        return self.run([{"key": key, "action": action, "value": value}])[0]


def locate() -> Laravel | str:
    """The Laravel runner, or why it cannot run."""
    php = shutil.which("php")
    if php is None:
        return "no php binary on PATH"
    if not AUTOLOAD.is_file():
        return f"Laravel's Encrypter is missing ({AUTOLOAD})"
    return Laravel(php, AUTOLOAD)


def missing(reason: str):
    """Fail inside scripts/test.sh (it installs PHP, so absence is a real failure), else skip."""
    import pytest

    if os.environ.get("ASKPRO_TEST_TIER"):
        pytest.fail(
            f"{reason}: scripts/test.sh should have installed php-cli and "
            f"php-illuminate-encryption; install them with: {INSTALL}",
            pytrace=False,
        )
    pytest.skip(INSTALL)
