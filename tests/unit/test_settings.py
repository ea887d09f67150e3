"""Settings: embedded-mode defaults, IMMTRAX_ environment overrides, production refusals."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from immtrax_portal.settings import DEFAULT_DATA_DIR, PROJECT_ROOT, Settings, get_settings

PRODUCTION_VARIABLES = {"IMMTRAX_OIDC_ISSUER", "IMMTRAX_OIDC_CLIENT_SECRET", "IMMTRAX_PUBLIC_URL",
                        "IMMTRAX_SMTP_HOST"}
GOOD_PRODUCTION = {
    "IMMTRAX_ENVIRONMENT": "production",
    "IMMTRAX_OIDC_ISSUER": "https://mt.okta.example/oauth2/default",
    "IMMTRAX_OIDC_CLIENT_SECRET": "a-real-secret-from-the-vault",
    "IMMTRAX_PUBLIC_URL": "https://immtrax-access.mt.example",
    "IMMTRAX_SMTP_HOST": "smtp.mt.example",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No IMMTRAX_ variable from the outer shell, and no .env file, leaks into a test."""
    for name in list(os.environ):
        if name.upper().startswith("IMMTRAX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_run_the_embedded_mode_on_a_sqlite_file_under_data():
    settings = Settings()
    assert DEFAULT_DATA_DIR == PROJECT_ROOT / "data"
    assert settings.environment == "development"
    assert settings.database_url == f"sqlite:///{DEFAULT_DATA_DIR / 'immtrax.db'}"
    assert settings.is_sqlite
    assert settings.public_url == "http://localhost:3000"
    assert settings.uses_demo_sign_in
    assert not settings.secure_cookies


def test_defaults_show_the_programs_contact_facts_from_the_design():
    settings = Settings()
    assert settings.program_name == "Montana Immunization Program"
    assert settings.program_phone == "(406) 444-5580"
    assert settings.program_hours == "Monday–Friday 8am–5pm (MST)"


def test_invitations_last_fourteen_days_by_default():
    assert Settings().invitation_lifetime_days == 14


def test_environment_variables_with_the_immtrax_prefix_override_defaults(monkeypatch):
    monkeypatch.setenv("IMMTRAX_DATABASE_URL", "postgresql://portal@db.example/immtrax")
    monkeypatch.setenv("IMMTRAX_PUBLIC_URL", "https://access.example.org")
    monkeypatch.setenv("IMMTRAX_PROGRAM_PHONE", "(406) 555-0100")
    monkeypatch.setenv("IMMTRAX_PROGRAM_HOURS", "Monday–Thursday 7am–6pm (MST)")
    monkeypatch.setenv("IMMTRAX_INVITATION_LIFETIME_DAYS", "21")
    settings = Settings()
    assert settings.database_url == "postgresql://portal@db.example/immtrax"
    assert not settings.is_sqlite
    assert settings.public_url == "https://access.example.org"
    assert settings.secure_cookies
    assert settings.program_phone == "(406) 555-0100"
    assert settings.program_hours == "Monday–Thursday 7am–6pm (MST)"
    assert settings.invitation_lifetime_days == 21


def test_variables_without_the_prefix_are_ignored(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone-else/db")
    monkeypatch.setenv("PUBLIC_URL", "https://someone-else.example")
    settings = Settings()
    assert settings.is_sqlite
    assert settings.public_url == "http://localhost:3000"


def test_a_different_data_folder_moves_the_default_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.setenv("IMMTRAX_DATA_DIR", str(tmp_path / "state"))
    assert Settings().database_url == f"sqlite:///{tmp_path / 'state' / 'immtrax.db'}"


def test_a_dotenv_file_is_read_but_the_environment_wins(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(
        "IMMTRAX_PROGRAM_PHONE=(406) 555-0199\nIMMTRAX_INVITATION_LIFETIME_DAYS=10\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("IMMTRAX_INVITATION_LIFETIME_DAYS", "30")
    settings = Settings()
    assert settings.program_phone == "(406) 555-0199"
    assert settings.invitation_lifetime_days == 30


@pytest.mark.parametrize("days", ["0", "91", "two weeks"])
def test_an_unreasonable_invitation_lifetime_is_refused(monkeypatch, days):
    monkeypatch.setenv("IMMTRAX_INVITATION_LIFETIME_DAYS", days)
    with pytest.raises(ValidationError, match="invitation_lifetime_days"):
        Settings()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://access.example.org/", "https://access.example.org"),
        ("https://access.example.org///", "https://access.example.org"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("https://access.example.org", "https://access.example.org"),
    ],
)
def test_the_public_url_loses_its_trailing_slash(monkeypatch, given, expected):
    monkeypatch.setenv("IMMTRAX_PUBLIC_URL", given)
    assert Settings().public_url == expected


def test_production_starts_with_a_real_issuer_secret_and_https_address(monkeypatch):
    for name, value in GOOD_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.environment == "production"
    assert not settings.uses_demo_sign_in
    assert settings.secure_cookies


def test_production_on_the_defaults_names_every_variable_to_fix(monkeypatch):
    monkeypatch.setenv("IMMTRAX_ENVIRONMENT", "production")
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "refusing to start in production" in message
    for variable in PRODUCTION_VARIABLES:
        assert variable in message


@pytest.mark.parametrize(
    ("variable", "bad_value"),
    [
        ("IMMTRAX_OIDC_CLIENT_SECRET", "demo-secret-not-for-production"),
        ("IMMTRAX_OIDC_ISSUER", None),
        ("IMMTRAX_OIDC_ISSUER", ""),
        ("IMMTRAX_PUBLIC_URL", "http://immtrax-access.mt.example"),
        ("IMMTRAX_SMTP_HOST", None),
    ],
    ids=["placeholder-secret", "missing-issuer", "empty-issuer", "plain-http-url", "no-mail-server"],
)
def test_production_refuses_one_bad_setting_and_names_its_variable(
    monkeypatch, variable, bad_value
):
    for name, value in GOOD_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    if bad_value is None:
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, bad_value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert variable in message
    assert not any(other in message for other in PRODUCTION_VARIABLES - {variable})


def test_development_tolerates_the_demo_defaults_that_production_refuses(monkeypatch):
    monkeypatch.setenv("IMMTRAX_PUBLIC_URL", "http://localhost:3000")
    settings = Settings()
    assert settings.oidc_issuer is None
    assert "not-for-production" in settings.oidc_client_secret


def test_operations_defaults_log_plain_text_at_info_with_no_metrics_route(tmp_path, monkeypatch):
    monkeypatch.setenv("IMMTRAX_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert (settings.log_format, settings.log_level, settings.log_repeat_seconds) == ("plain", "INFO", 60)
    assert settings.metrics_token is None
    assert settings.metrics_directory == tmp_path / "metrics"
    assert settings.readiness_timeout_seconds == 2


def test_log_format_and_level_are_read_in_any_case(monkeypatch):
    monkeypatch.setenv("IMMTRAX_LOG_FORMAT", "JSON")
    monkeypatch.setenv("IMMTRAX_LOG_LEVEL", "warning")
    settings = Settings()
    assert (settings.log_format, settings.log_level) == ("json", "WARNING")
    monkeypatch.setenv("IMMTRAX_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()


def test_production_refuses_a_short_metrics_token(monkeypatch):
    for name, value in GOOD_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IMMTRAX_METRICS_TOKEN", "short")
    with pytest.raises(ValidationError, match="IMMTRAX_METRICS_TOKEN must be at least 24 characters"):
        Settings()
    monkeypatch.setenv("IMMTRAX_METRICS_TOKEN", "x" * 32)
    assert Settings().metrics_token == "x" * 32


def test_a_real_issuer_without_the_environment_flag_gets_the_production_rules(monkeypatch):
    """A deployment pointed at Okta that forgets IMMTRAX_ENVIRONMENT must not run with non-Secure
    cookies, the placeholder secret and no mail server."""
    monkeypatch.setenv("IMMTRAX_OIDC_ISSUER", "https://mt.okta.example/oauth2/default")
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "refusing to start in production" in message
    assert "IMMTRAX_OIDC_CLIENT_SECRET" in message and "IMMTRAX_SMTP_HOST" in message
    assert "IMMTRAX_ENVIRONMENT=development" in message   # how a test installation opts out


def test_a_real_issuer_and_good_settings_run_in_production_without_the_flag(monkeypatch):
    for name, value in GOOD_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("IMMTRAX_ENVIRONMENT")
    settings = Settings()
    assert settings.environment == "production"
    assert settings.mode_line == ("imMTrax Access Portal running in production mode "
                                  "(the default with a real IMMTRAX_OIDC_ISSUER)")


def test_development_with_a_real_issuer_only_when_asked_for_and_the_log_says_so(monkeypatch):
    monkeypatch.setenv("IMMTRAX_OIDC_ISSUER", "https://okta-test.mt.example/oauth2/default")
    monkeypatch.setenv("IMMTRAX_ENVIRONMENT", "development")
    settings = Settings()
    assert settings.environment == "development"
    assert settings.mode_line.endswith("development mode (IMMTRAX_ENVIRONMENT)")


def test_the_embedded_demo_runs_in_development_and_the_log_says_why():
    settings = Settings()
    assert settings.environment == "development"
    assert "development mode (the default with the embedded demo sign-in)" in settings.mode_line


def test_serve_refuses_bad_settings_without_repeating_the_secrets_it_was_given(monkeypatch):
    """pydantic's own text repeats the values it was given (``input_value={...}``)."""
    from immtrax_portal import cli

    monkeypatch.setenv("IMMTRAX_ENVIRONMENT", "production")
    monkeypatch.setenv("IMMTRAX_OIDC_CLIENT_SECRET", "s3cr3t")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as refused:
            cli.serve()
    finally:
        get_settings.cache_clear()
    message = str(refused.value)
    assert message.startswith("Refusing to start:") and "IMMTRAX_SMTP_HOST" in message
    assert "s3cr3t" not in message
