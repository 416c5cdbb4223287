"""Configuration from `BILLFOLD_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLFOLD_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where SQLite and the key file live")
    database_url: str | None = Field(default=None, description="Default: SQLite in data_dir")
    secret_key: str | None = Field(
        default=None, description="Base64 32-byte key(s), comma-separated, newest first"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    job_backend: Literal["embedded", "procrastinate"] = Field(
        default="embedded", description="procrastinate: PostgreSQL workers (scale-out)"
    )
    run_workers: bool = Field(default=True, description="Run jobs in this process")
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    worker_stalled_seconds: float = Field(
        default=30.0, gt=0, description="A worker silent this long is dead; its tasks move"
    )
    store_threads: int | None = Field(
        default=None,
        ge=0,
        description="Threads for database calls of running jobs and the busiest API routes, "
        "so their waits overlap (default: 8 on PostgreSQL, 0 = on the event loop on SQLite)",
    )
    recover_jobs_seconds: float = Field(
        default=15.0, gt=0, description="How often live jobs without a task are re-queued"
    )
    challenge_ttl_seconds: float = Field(default=300.0, gt=0)
    job_deadline_seconds: float = Field(default=900.0, gt=0)
    job_lease_seconds: float = Field(
        default=30.0, gt=0, description="A dead process's tasks run again after this long"
    )
    sandbox_step_delay: float = Field(default=0.0, ge=0)
    sandbox_enabled: bool = True
    statement_max_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, description="Largest statement file an upload may be"
    )
    api_key_cache_seconds: float = Field(default=30.0, ge=0)
    synapse_strict_mfa: bool = Field(
        default=False, description='Synapse: a wrong MFA answer is 409/"400", not a 202 re-prompt'
    )
    synapse_oauth_ttl_seconds: int = Field(
        default=7200, gt=0, description="Synapse: how long an oauth key lives"
    )
    # Sophtron dialect: its Data API at `<root>/api/...`, its OAuth at `<root>/oauth/...`.
    sophtron_root: str = Field(default="", description='Dialect root R ("" = host root)')
    sophtron_hold_seconds: float = Field(
        default=30.0, ge=0, description="Single-account-select hold before a job completes"
    )
    sophtron_signature_binding: bool = Field(
        default=True, description="Check that a FIApiAUTH signed path matches the request path"
    )

    refresh_tick_seconds: float = Field(default=60.0, gt=0, description="Scheduler period")
    refresh_per_institution: int = Field(
        default=50, ge=1, description="Scheduled refreshes started per institution per tick"
    )
    webhook_retry_schedule: str = Field(
        default="5,30,120,600,1800,3600,7200,14400,28800",
        description="Seconds between webhook attempts, comma-separated",
    )
    webhook_disable_after_hours: float = Field(default=72.0, gt=0)
    webhook_sweep_seconds: float = Field(default=30.0, gt=0)
    # OFX Direct Connect (needs the `ofx` extra): servers beyond ofxtools' list, e.g. a
    # credit union's own or a local test server; see `billfold.connectors.ofx.directory`.
    ofx_servers: Path | None = Field(
        default=None,
        description="JSON file listing extra OFX servers (id, name, url, org, fid, version, ...)",
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'billfold.db').resolve()}"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"
