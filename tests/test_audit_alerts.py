"""Alerts: `audit --record --notify` mails the managers what got worse (issue 15, point 3).

The mails go through Django's SMTP backend to a real SMTP server (aiosmtpd) on a free loopback
port, and are read back from what that server received.
"""

import email
import socket
from email import policy
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from audit_app import alerts, snapshots
from audit_app.registry import get_check
from integrations_app import roles
from integrations_app.models import Company, PhoneNumber
from tests import audit_rows as r

pytestmark = pytest.mark.django_db


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Django's SMTP backend pointed at it."""
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "console@example.org"
    settings.CONSOLE_BASE_URL = "https://console.example.org"
    settings.AUDIT_ALERT_THRESHOLDS = {}
    settings.AUDIT_ALERT_RECIPIENTS = {}
    try:
        yield collector
    finally:
        controller.stop()


@pytest.fixture
def managers(settings):
    """Two managers (one English by the recipients setting), and people who get nothing."""
    roles.setup_roles()
    manager = Group.objects.get(name=roles.MANAGER)
    users = get_user_model().objects
    for name, mail, active, group in (
        ("greta", "greta@example.org", True, manager),
        ("emma", "Emma@example.org", True, manager),
        ("gone", "gone@example.org", False, manager),
        ("nomail", "", True, manager),
        ("sam", "sam@example.org", True, Group.objects.get(name=roles.SUPPORT)),
    ):
        user = users.create_user(name, mail, "x", is_active=active)
        user.groups.add(group)
    settings.AUDIT_ALERT_RECIPIENTS = {"emma@example.org": "en", "ops@example.org": "en"}
    settings.LANGUAGE_CODE = "de"


def audit(*args):
    out, err = StringIO(), StringIO()
    call_command("audit", "--fail-on", "never", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def by_recipient(collector) -> dict:
    found = {}
    for rcpt_tos, message in collector.messages:
        for address in rcpt_tos:
            found.setdefault(address.lower(), []).append(message)
    return found


def body(message, subtype="plain") -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def title(check_id: str, language: str) -> str:
    with translation.override(language):
        return str(get_check(check_id).title)


def test_a_new_critical_finding_mails_each_manager_once_in_their_language(smtp, managers):
    r.branch(r.company("Mit Filiale GmbH"))
    out, _err = audit("--record", "--notify")
    assert smtp.messages == []  # the first snapshot has no "since"
    assert "0" in out.splitlines()[-1]

    lonely = r.company("Ohne Filiale GmbH")
    out, _err = audit("--record", "--notify")
    received = by_recipient(smtp)
    assert set(received) == {"greta@example.org", "emma@example.org", "ops@example.org"}
    assert all(len(messages) == 1 for messages in received.values())
    assert out.splitlines()[-1].endswith("3.")

    german = received["greta@example.org"][0]
    assert german["Content-Language"] == "de"
    assert german["From"] == "console@example.org"
    assert title("AUD-BRN-001", "de") in body(german)
    assert title("AUD-BRN-001", "de") != title("AUD-BRN-001", "en")
    assert "https://console.example.org/admin/audit_app/fixrecord/dashboard/" in body(german)

    english = received["emma@example.org"][0]
    assert english["Content-Language"] == "en"
    assert english["Subject"].startswith("Gateway readiness: ")
    text = body(english)
    assert title("AUD-BRN-001", "en") in text
    assert "AUD-BRN-001" in text and "1 new affected row (1 in all)" in text
    assert title("AUD-BRN-001", "de") not in text
    html = body(english, "html")
    assert 'href="https://console.example.org/admin/audit_app/fixrecord/dashboard/"' in html
    assert "AUD-BRN-001" in html
    assert lonely.name not in text + html  # keys and counts only, no names

    smtp.messages.clear()
    out, _err = audit("--record", "--notify")  # nothing got worse
    assert smtp.messages == []
    assert out.splitlines()[-1].endswith("0.")


def test_a_measure_falling_below_its_threshold_alerts_once(smtp, managers, settings, english):
    settings.AUDIT_ALERT_THRESHOLDS = {"phone_coverage": 50.0}
    settings.AUDIT_ALERT_RECIPIENTS = {"ops@example.org": "en"}
    get_user_model().objects.filter(groups__name=roles.MANAGER).update(is_active=False)
    company = r.company("Nummer GmbH")
    r.number(company, r.line(1), at=r.branch(company))
    audit("--record", "--notify")
    PhoneNumber.objects.all().delete()
    out, err = audit("--record", "--notify", "--format", "json")
    assert len(smtp.messages) == 1
    (rcpt_tos, message) = smtp.messages[0]
    assert rcpt_tos == ["ops@example.org"]
    text = body(message)
    assert "Measures below their threshold:" in text
    assert "Phone coverage: 100.0 % → 0.0 % (threshold 50 %)" in text
    assert "Alert mails sent: 1." in err  # stdout is the JSON
    assert out.lstrip().startswith("{")

    smtp.messages.clear()
    audit("--record", "--notify")  # still below: said once, not on every run
    assert smtp.messages == []


def test_german_numbers_in_a_german_mail(smtp, managers, settings):
    settings.AUDIT_ALERT_THRESHOLDS = {"phone_coverage": 50.5}
    settings.AUDIT_ALERT_RECIPIENTS = {"ops@example.org": "de"}
    get_user_model().objects.filter(groups__name=roles.MANAGER).update(is_active=False)
    company = r.company("Nummer GmbH")
    r.number(company, r.line(1), at=r.branch(company))
    audit("--record", "--notify")
    PhoneNumber.objects.all().delete()
    audit("--record", "--notify")
    (_rcpt, message) = smtp.messages[0]
    with translation.override("de"):
        label = str(alerts._measure_labels()["phone_coverage"])
    assert f"{label}: 100,0 % → 0,0 %" in body(message)
    assert "50,5 %" in body(message)


def test_notify_without_record_is_refused(smtp):
    with pytest.raises(CommandError, match="--record"):
        audit("--notify")
    assert smtp.messages == []


def test_a_mail_server_that_is_down_is_said_with_status_2(smtp, managers, settings):
    audit("--record", "--notify")
    r.company("Ohne Filiale GmbH")
    settings.EMAIL_PORT = _free_port()  # nobody listens there
    err = StringIO()
    with pytest.raises(SystemExit) as stopped:
        call_command(
            "audit", "--fail-on", "never", "--record", "--notify", stdout=StringIO(), stderr=err
        )
    assert stopped.value.code == 2
    assert "ops@example.org" in err.getvalue()


def test_an_unknown_threshold_is_warned_about(smtp, settings):
    settings.AUDIT_ALERT_THRESHOLDS = {"phone_covrage": 50.0}
    _out, err = audit("--record", "--notify")
    assert "phone_covrage" in err


def test_notify_reads_a_fixed_number_of_queries(smtp, managers, settings):
    """Neither the snapshots, nor the rows, nor the recipients make it read more."""
    settings.AUDIT_ALERT_THRESHOLDS = {"branch_coverage": 99.9}

    def counted(more: int) -> int:
        """Every company gets a branch; ``more`` snapshots; ``more`` companies without one."""
        for company in Company.objects.filter(branches__isnull=True):
            r.branch(company)
        for _ in range(more):
            snapshots.record()
        for _ in range(more):
            r.company()
        snapshot = snapshots.record()
        with CaptureQueriesContext(connection) as queries:
            result = alerts.notify(snapshot)
        assert result.worse.findings and result.worse.drops
        assert len(result.sent) == len(alerts.recipients())
        return len(queries)

    r.branch(r.company())
    first = counted(1)
    get_user_model().objects.create_user("more", "more@example.org", "x").groups.add(
        Group.objects.get(name=roles.MANAGER)
    )
    second = counted(5)
    assert first == second


def test_the_alert_settings_from_the_environment(monkeypatch):
    from askpro_console import alert_settings
    from askpro_console.config import ConfigError, Settings

    env = Settings(django_settings.BASE_DIR)
    monkeypatch.setenv("AUDIT_ALERT_THRESHOLDS", "phone_coverage:50, branch_coverage:80.5")
    monkeypatch.setenv("AUDIT_ALERT_RECIPIENTS", "ops@example.org:EN, chef@example.org")
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://user:p%40ss@mail.example.org:587")
    assert alert_settings.thresholds(env) == {"phone_coverage": 50.0, "branch_coverage": 80.5}
    assert alert_settings.recipients(env) == {"ops@example.org": "en", "chef@example.org": ""}
    mail = alert_settings.email(env, "consolemail://")
    assert mail["EMAIL_HOST"] == "mail.example.org" and mail["EMAIL_PORT"] == 587
    assert mail["EMAIL_USE_TLS"] is True and mail["EMAIL_HOST_PASSWORD"] == "p@ss"
    monkeypatch.delenv("EMAIL_URL")
    assert alert_settings.email(env, "consolemail://") == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"
    }
    for name, value, parse in (
        ("AUDIT_ALERT_THRESHOLDS", "phone_coverage", alert_settings.thresholds),
        ("AUDIT_ALERT_THRESHOLDS", "phone_coverage:150", alert_settings.thresholds),
        ("AUDIT_ALERT_RECIPIENTS", "ops@example.org:fr", alert_settings.recipients),
        ("AUDIT_ALERT_RECIPIENTS", "nobody", alert_settings.recipients),
        ("EMAIL_URL", "pigeon://coop", lambda e: alert_settings.email(e, "")),
    ):
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError):
            parse(env)
