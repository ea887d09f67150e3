"""One typed settings object, read from environment variables (prefix ``IMMTRAX_``) and ``.env``.

Defaults run the embedded mode: SQLite under ``data/``, in-process state, demo sign-in,
mail kept in the development mailbox. Production refuses to start on those defaults.

Which mode is in force: ``IMMTRAX_ENVIRONMENT`` when it is set; otherwise development only with
the embedded demo provider (no ``IMMTRAX_OIDC_ISSUER``), and production as soon as a real issuer
is configured. A deployment pointed at Okta that forgets the flag thus gets the production rules
(Secure cookies, no placeholder secret, real SMTP), not the demo's relaxations.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="IMMTRAX_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Unset: production with a real issuer, development with the embedded demo provider.
    environment: Literal["development", "production"] | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    # Set by the validator below: what decided ``environment`` (for the start-up log).
    _environment_chosen_by: str = PrivateAttr(default="")
    database_url: str = ""
    public_url: str = "http://localhost:3000"
    redis_url: str | None = None

    # Contact facts shown in the app (DESIGN.md "Contact facts").
    program_name: str = "Montana Immunization Program"
    program_phone: str = "(406) 444-5580"
    program_hours: str = "Monday–Friday 8am–5pm (MST)"
    program_email: str = "immtrax@mt.gov"
    okta_account_guide_url: str = "https://dphhs.mt.gov/publichealth/immunization/immtrax"

    # Invitations and reminders.
    invitation_lifetime_days: int = Field(default=14, ge=1, le=90)
    invitation_reminder_days: list[int] = Field(default_factory=lambda: [3, 7])

    # Roster reviews (services/reviews.py): how often each level is reviewed, the window, the
    # reminders before its end, and the grace after it before an Access Deletion is opened. These
    # are the defaults: once staff save a schedule on /staff/reviews, it applies instead
    # (services/review_schedule.py, whose form keeps to these bounds).
    review_every_months_vaccine_management: int = Field(default=3, ge=1, le=36)
    review_every_months_other_levels: int = Field(default=12, ge=1, le=36)
    review_window_days: int = Field(default=14, ge=1, le=90)
    review_reminder_days_before_end: list[int] = Field(default_factory=lambda: [7, 2])
    review_grace_days: int = Field(default=7, ge=0, le=90)
    # Inactivity from the registry's report (services/inactivity.py): idle this many days is shown
    # to supervisors to confirm or remove; idle this many days opens an Access Deletion.
    idle_confirm_days: int = Field(default=60, ge=1, le=3650)
    idle_deletion_days: int = Field(default=90, ge=1, le=3650)

    # Sessions. Idle minutes may be a fraction (tests make the timeout short); the warning dialog
    # opens this many seconds before the idle timeout (at least two minutes by default, WCAG 2.2.1).
    session_idle_minutes: float = Field(default=30, gt=0, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1)
    session_warning_seconds: int = Field(default=120, ge=5, le=3600)

    # OpenID Connect. With no issuer, the embedded demo provider runs on loopback.
    oidc_issuer: str | None = None
    oidc_client_id: str = "immtrax-portal-demo"
    oidc_client_secret: str = "demo-secret-not-for-production"  # noqa: S105 - production refuses it
    oidc_scopes: str = "openid email profile"
    demo_oidc_port: int = 3010

    # Outgoing mail. With no host, mail stays in the development mailbox.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "imMTrax Access Portal <no-reply@immtrax.example>"
    # Where staff notices go (one message to the program's shared inbox, not one per staff member).
    program_inbox: str = "immtrax-access@mt.example"
    # Delivery worker: per-connection/command timeout, and attempts before an email is "failed".
    # With back-off 1, 2, 4 … 60 minutes, 12 attempts span about six hours.
    smtp_timeout_seconds: float = Field(default=20, gt=0, le=120)
    mail_max_attempts: int = Field(default=12, ge=1, le=50)
    # Background work inside the app process: the outbox is read every few seconds, invitation
    # reminders and expiry are checked every few minutes. Off only for tests that drive them.
    background_jobs: bool = True
    mail_delivery_interval_seconds: float = Field(default=2, gt=0, le=300)
    housekeeping_interval_seconds: float = Field(default=300, gt=0, le=86_400)
    # How long one housekeeping run may hold its job's lease; a process that dies mid-run frees
    # the job for another process after this long (services/job_leases.py).
    job_lease_seconds: float = Field(default=600, ge=1, le=86_400)

    # Access over time (issue 16). The User Agreement is signed again every this many months;
    # reminders go this many days before it lapses (to the person, copied to their supervisors).
    agreement_renewal_months: int = Field(default=12, ge=1, le=60)
    agreement_renewal_reminder_days: list[int] = Field(default_factory=lambda: [30, 7, 1])
    # Time-limited access: the supervisor is reminded this many days before the end date, and
    # "Extend" moves the end date this many days on (from the current end date).
    access_end_reminder_days: list[int] = Field(default_factory=lambda: [14, 1])
    access_extension_days: int = Field(default=90, ge=1, le=365)

    # Client IPs: how many reverse proxies in front of the app append to X-Forwarded-For.
    trusted_proxy_hops: int = Field(default=0, ge=0, le=5)

    # How the portal is served (immtrax_portal/serving.py). The listen address is separate from the
    # public URL: behind a balancer or TLS proxy, https://access.example may be served from :3000.
    listen_host: str = "0.0.0.0"  # noqa: S104 - a server, and a container, listens on every interface
    listen_port: int = Field(default=3000, ge=1, le=65535)
    # Worker processes of this instance. Unset: one per CPU core (at most 4) with Redis, 1 without.
    workers: int | None = Field(default=None, ge=1, le=32)
    # PostgreSQL connections: each worker process holds a pool of ``database_pool_size`` connections
    # and opens up to ``database_max_overflow`` more under load. The instance refuses to start when
    # workers x (pool + overflow) exceeds ``database_connection_budget``, its share of the server's
    # max_connections (PostgreSQL's default is 100, a few reserved for the superuser).
    database_pool_size: int = Field(default=5, ge=1, le=100)
    database_max_overflow: int = Field(default=5, ge=0, le=100)
    database_connection_budget: int = Field(default=40, ge=1, le=10_000)

    # Operations (immtrax_portal/operations): log lines, readiness probe, metrics.
    # plain: one readable line per record; json: one JSON object per line (for log collectors).
    log_format: Literal["plain", "json"] = "plain"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # A WARNING-or-worse line that repeats is written once per this many seconds, then counted.
    log_repeat_seconds: float = Field(default=60, ge=0, le=3600)
    # How long /readyz waits for the database and for Redis before answering 503.
    readiness_timeout_seconds: float = Field(default=2, gt=0, le=30)
    # Bearer token for /metrics; with none set, /metrics answers 404.
    metrics_token: str | None = None
    # Where the worker processes keep their metric files (emptied when `cli serve` starts).
    metrics_dir: Path | None = None

    # Benchmarking only: count SQL statements and serve them at /debug/query-count.
    debug_query_counter: bool = False
    # Testing only (immtrax_portal/slow_database.py): every SQL statement sent while handling an
    # event of this person waits this long, as if the database were slow for that one tab.
    debug_slow_database_person_id: int | None = None
    debug_slow_database_seconds: float = Field(default=0.0, ge=0, le=10)
    # Rate limits (services/rate_limits.py): at most this many per fixed window, counted in the
    # database so every worker process shares the count. 0 turns one limit off.
    rate_limit_window_minutes: int = Field(default=15, ge=1, le=1440)
    # Address limits are several times the person limits: a clinic works behind one NAT address.
    rate_limit_sign_in_per_ip: int = Field(default=100, ge=0)
    # Callbacks that match no sign-in this browser started (junk, replays): their own budget.
    rate_limit_sign_in_unmatched_per_ip: int = Field(default=300, ge=0)
    rate_limit_submit_per_person: int = Field(default=20, ge=0)
    rate_limit_submit_per_ip: int = Field(default=100, ge=0)
    rate_limit_invitation_per_person: int = Field(default=10, ge=0)
    rate_limit_invitation_per_ip: int = Field(default=60, ge=0)
    # The wizard asking the registry whether a typed email holds access elsewhere (per supervisor).
    rate_limit_registry_lookup_per_person: int = Field(default=30, ge=0)

    # Targets for the staff queue's overdue markers, in business days (Monday–Friday in the
    # program's time zone): a request waiting longer than this in that status is overdue.
    # ``business_time_zone`` is the program's time zone: business days, and every date and time
    # the portal shows or emails (``immtrax_portal.program_time``).
    overdue_submitted_business_days: int = Field(default=1, ge=1, le=60)
    overdue_review_business_days: int = Field(default=1, ge=1, le=60)
    overdue_needs_info_business_days: int = Field(default=5, ge=1, le=60)
    business_time_zone: str = "America/Denver"

    @field_validator("business_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as unknown:
            raise ValueError(f"unknown time zone {value!r} (use a name like America/Denver)") from unknown
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object, info) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_database_and_refuse_placeholders(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'immtrax.db'}"
        self._environment_chosen_by = "IMMTRAX_ENVIRONMENT" if self.environment else (
            "the default with a real IMMTRAX_OIDC_ISSUER" if self.oidc_issuer
            else "the default with the embedded demo sign-in")
        if self.environment is None:
            self.environment = "production" if self.oidc_issuer else "development"
        if self.environment == "production":
            problems = []
            if not self.oidc_issuer:
                problems.append("IMMTRAX_OIDC_ISSUER must name the Okta issuer (demo sign-in is off)")
            if "not-for-production" in self.oidc_client_secret:
                problems.append("IMMTRAX_OIDC_CLIENT_SECRET still holds the demo placeholder")
            if not self.public_url.startswith("https://"):
                problems.append("IMMTRAX_PUBLIC_URL must be an https:// address")
            if not self.smtp_host:
                problems.append("IMMTRAX_SMTP_HOST must name the mail server (invitations must leave)")
            if self.metrics_token is not None and len(self.metrics_token) < 24:
                problems.append("IMMTRAX_METRICS_TOKEN must be at least 24 characters")
            if self.debug_query_counter:
                problems.append("IMMTRAX_DEBUG_QUERY_COUNTER is for benchmarks, not production")
            if self.debug_slow_database_person_id is not None:
                problems.append("IMMTRAX_DEBUG_SLOW_DATABASE_PERSON_ID is for tests, not production")
            if problems:
                why = ("" if self._environment_chosen_by == "IMMTRAX_ENVIRONMENT" else
                       " (production is the default with a real IMMTRAX_OIDC_ISSUER; a test installation "
                       "that needs the development relaxations sets IMMTRAX_ENVIRONMENT=development)")
                raise ValueError("refusing to start in production: " + "; ".join(problems) + why)
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_serving_shapes(self) -> Settings:
        """Shapes that start but then fail people: refused at start-up in every environment."""
        problems = []
        if self.session_warning_seconds >= self.session_idle_seconds:
            problems.append(f"IMMTRAX_SESSION_WARNING_SECONDS={self.session_warning_seconds} must be shorter "
                            f"than the idle timeout ({self.session_idle_seconds:g} s): the warning would "
                            "open at once")
        if self.worker_count > 1 and not self.redis_url:
            problems.append(f"IMMTRAX_WORKERS={self.worker_count} needs IMMTRAX_REDIS_URL: without Redis "
                            "each worker keeps its own tabs' state, and a tab that reconnects to another "
                            "worker loses it")
        if not self.is_sqlite and self.database_connections_at_most > self.database_connection_budget:
            problems.append(
                f"{self.worker_count} workers x (IMMTRAX_DATABASE_POOL_SIZE={self.database_pool_size} + "
                f"IMMTRAX_DATABASE_MAX_OVERFLOW={self.database_max_overflow}) = "
                f"{self.database_connections_at_most} database connections, over "
                f"IMMTRAX_DATABASE_CONNECTION_BUDGET={self.database_connection_budget}")
        if problems:
            raise ValueError("refusing to start: " + "; ".join(problems))
        return self

    @property
    def worker_count(self) -> int:
        """IMMTRAX_WORKERS, else what suits this machine: the handlers wait on the database in
        threads, so one process per core serves it; more only add memory and connections."""
        if self.workers is not None:
            return self.workers
        return min(os.cpu_count() or 1, 4) if self.redis_url else 1

    @property
    def session_idle_seconds(self) -> float:
        return self.session_idle_minutes * 60

    @property
    def database_connections_at_most(self) -> int:
        """The most database connections this instance's workers can hold at once."""
        return self.worker_count * (self.database_pool_size + self.database_max_overflow)

    @property
    def metrics_directory(self) -> Path:
        return self.metrics_dir or self.data_dir / "metrics"

    @property
    def mode_line(self) -> str:
        """What the start-up log says about the mode in force, and why it is the one."""
        return f"imMTrax Access Portal running in {self.environment} mode ({self._environment_chosen_by})"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_demo_sign_in(self) -> bool:
        return not self.oidc_issuer

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
