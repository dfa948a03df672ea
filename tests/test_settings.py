"""Settings from the environment: a malformed value stops start-up with one clear line."""

import pytest

from tests import support


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "postgres://u@localhost/db", "unknown scheme 'postgres'"),
        ("DATABASE_URL", "not a url", "unknown scheme"),
        ("DATABASE_URL", "mysql://root@127.0.0.1:3306/", "names no database"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a yes/no value"),
        ("LANGUAGE_CODE", "fr", "LANGUAGE_CODE='fr' is not supported"),
        ("SECRET_KEY", "short", "SECRET_KEY is shorter than 32 characters"),
        ("ALLOWED_HOSTS", " , ", "ALLOWED_HOSTS is empty"),
    ],
)
def test_a_malformed_setting_gives_one_clear_line(tmp_path, variable, value, expected):
    env = {variable: value}
    url = value if variable == "DATABASE_URL" else f"sqlite:///{tmp_path / 'db.sqlite3'}"
    language = "en" if variable != "LANGUAGE_CODE" else value
    result = support.run_manage("check", database_url=url, language=language, extra_env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "configuration error" in lines[0]
    assert expected in lines[0]


def test_configuration_errors_speak_german_by_default(tmp_path):
    result = support.run_manage("check", database_url="postgres://u@localhost/db", language="de")
    assert result.returncode == 2
    assert "Konfigurationsfehler" in result.stderr
    assert "unbekannte Schema" in result.stderr


def test_a_database_server_that_is_down_gives_one_clear_line(tmp_path):
    import socket

    with socket.socket() as sock:  # a port on which nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = support.run_manage(
        "gateway_schema", "check", database_url=f"mysql://root@127.0.0.1:{port}/gateway"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("askpro-console: database error:")


@pytest.mark.django_db
def test_a_refused_password_gives_one_clear_line(mysql_only):
    from django.db import connection

    url = support.database_url(
        connection.settings_dict | {"PASSWORD": "definitely-wrong"},
        connection.settings_dict["NAME"],
    )
    result = support.run_manage("gateway_schema", "check", database_url=url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "database error" in lines[0] and "Access denied" in lines[0]


def test_the_embedded_default_needs_no_configuration(tmp_path):
    result = support.run_manage("check", database_url=None)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
