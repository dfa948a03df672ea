"""Reading the environment for settings.py, with one clear line instead of a traceback.

Settings load before Django's translation machinery, so messages are translated with the
plain ``gettext`` module from the project's own catalogue in ``locale/``.
"""

import base64
import gettext as gettext_module
import os
import secrets
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

SUPPORTED_LANGUAGES = ("de", "en")
_TRUE = {"1", "true", "yes", "on", "ja"}
_FALSE = {"0", "false", "no", "off", "nein", ""}
_DB_SCHEMES = {"sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}
# The embedded demo's own gateway key (a Laravel APP_KEY written by `setup_demo`).
DEMO_GATEWAY_KEY_FILE = Path("var") / "demo_gateway_app_key"


class ConfigError(Exception):
    """A setting from the environment that the console cannot use."""


def _translator(base_dir: Path):
    language = os.environ.get("LANGUAGE_CODE", "de").strip().lower()[:2]
    return gettext_module.translation(
        "django", localedir=base_dir / "locale", languages=[language], fallback=True
    ).gettext


def fail(base_dir: Path, error: ConfigError) -> None:
    """Print one line in the user's language and stop."""
    _ = _translator(base_dir)
    print(_("askpro-console: configuration error: %(error)s") % {"error": error}, file=sys.stderr)
    raise SystemExit(2)


class Settings:
    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self.env = environ.Env()
        # A .env beside manage.py holds a deployment's settings; the process's own environment
        # wins. Never under pytest: a developer's .env must not point the suite at a server.
        dotenv = base_dir / ".env"
        if dotenv.is_file() and "PYTEST_VERSION" not in os.environ:
            environ.Env.read_env(dotenv)
        self._ = _translator(base_dir)

    def string(self, name: str, default: str = "") -> str:
        return os.environ.get(name, default).strip()

    def boolean(self, name: str, default: bool) -> bool:
        raw = os.environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(
            self._("%(name)s=%(value)r is not a yes/no value (use true or false)")
            % {"name": name, "value": raw}
        )

    def host_list(self, name: str, default: list[str]) -> list[str]:
        raw = os.environ.get(name)
        if raw is None:
            return default
        hosts = [h.strip() for h in raw.split(",") if h.strip()]
        if not hosts:
            raise ConfigError(self._("%(name)s is empty: name at least one host") % {"name": name})
        return hosts

    def url_setting(self, name: str, default: str) -> str:
        value = self.string(name, default).rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ConfigError(
                self._("%(name)s=%(value)r is not an http(s) URL") % {"name": name, "value": value}
            )
        return value

    def number(self, name: str, default: float) -> float:
        raw = self.string(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 < value <= 120:
            raise ConfigError(
                self._("%(name)s=%(value)r is not a number of seconds between 0 and 120")
                % {"name": name, "value": raw}
            )
        return value

    def count(self, name: str, default: int) -> int:
        """A positive whole number (a size or a row limit)."""
        raw = self.string(name)
        if not raw:
            return default
        if not raw.isdigit() or int(raw) == 0:
            raise ConfigError(
                self._("%(name)s=%(value)r is not a positive whole number")
                % {"name": name, "value": raw}
            )
        return int(raw)

    def optional_id(self, name: str) -> int | None:
        raw = self.string(name)
        if not raw:
            return None
        if not raw.isdigit() or int(raw) == 0:
            raise ConfigError(
                self._("%(name)s=%(value)r is not a row id (a positive whole number)")
                % {"name": name, "value": raw}
            )
        return int(raw)

    def language(self) -> str:
        raw = self.string("LANGUAGE_CODE", "de").lower()
        if raw not in SUPPORTED_LANGUAGES:
            raise ConfigError(
                self._("LANGUAGE_CODE=%(value)r is not supported (use de or en)") % {"value": raw}
            )
        return raw

    def database(self, name: str, default_url: str) -> dict:
        url = self.string(name) or default_url
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in _DB_SCHEMES:
            raise ConfigError(
                self._(
                    "%(name)s has the unknown scheme %(scheme)r "
                    "(use sqlite:///path or mysql://user:password@host:port/database)"
                )
                % {"name": name, "scheme": scheme or url[:20]}
            )
        url = _DB_SCHEMES[scheme] + url[len(scheme) :]
        try:
            config = self.env.db_url_config(url)
        except (ImproperlyConfigured, ValueError) as exc:
            raise ConfigError(f"{name}: {exc}") from exc
        if config["ENGINE"].endswith("mysql"):
            if not config.get("NAME"):
                raise ConfigError(self._("%(name)s names no database") % {"name": name})
            options = config.setdefault("OPTIONS", {})
            options.setdefault("charset", "utf8mb4")
            # The gateway runs in strict mode: the console must fail the same way it would.
            options.setdefault(
                "init_command",
                "SET SESSION sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
                "NO_ENGINE_SUBSTITUTION'",
            )
            config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
        return config

    def secret_key(self) -> str:
        """The configured key, else one generated once and kept in var/ (never in git)."""
        key = self.string("SECRET_KEY")
        if key:
            if len(key) < 32:
                raise ConfigError(self._("SECRET_KEY is shorter than 32 characters"))
            return key
        path = self.base_dir / "var" / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.touch(mode=0o600)
        path.write_text(key)
        return key

    def gateway_app_key(self) -> str:
        """GATEWAY_APP_KEY; unset on the embedded demo (no DATABASE_URL): the demo's own key
        from var/ if `setup_demo` made one. With DATABASE_URL set the file is never read, and
        never under pytest (a developer's demo must not change what the suite sees)."""
        key = self.string("GATEWAY_APP_KEY")
        if key or self.string("DATABASE_URL") or "PYTEST_VERSION" in os.environ:
            return key
        path = self.base_dir / DEMO_GATEWAY_KEY_FILE
        return path.read_text().strip() if path.is_file() else ""


def ensure_demo_gateway_key(base_dir: Path) -> tuple[str, bool]:
    """The demo's gateway key in var/ (mode 0600), made once: ("base64:" + 44 characters of
    32 random bytes, as Laravel's key:generate), and whether it was made now."""
    path = base_dir / DEMO_GATEWAY_KEY_FILE
    if path.is_file():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = "base64:" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    # Created with 0600 from the start (O_EXCL: never over a file made meanwhile).
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key, True
