"""The composition root: builds the store, job backend, wake-ups, connectors and services."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta

from billfold.connectors.base import Connector
from billfold.jobs.backend import JobBackend, Wakeups
from billfold.jobs.embedded import EmbeddedJobBackend
from billfold.jobs.pg_wakeups import PgWakeups
from billfold.jobs.procrastinate_backend import ProcrastinateJobBackend, ensure_schema
from billfold.jobs.runner import JobRunner
from billfold.jobs.store_calls import InlineStoreCalls, StoreCalls, ThreadedStoreCalls
from billfold.jobs.wakeups import LocalWakeups
from billfold.services.clients import ApiKeyVerifier
from billfold.services.context import JobPolicy, ServiceContext
from billfold.services.institutions import sync_directory
from billfold.services.job_views import JobViewCache
from billfold.services.schedules import enqueue_due_refreshes
from billfold.services.synapse_webhooks import install_synapse_tasks
from billfold.services.webhooks import DELIVER_WEBHOOK, WebhookDispatcher, WebhookPolicy
from billfold.settings import Settings
from billfold.store.database import Database
from billfold.store.encryption import load_key_ring
from billfold.store.store import Store
from billfold.webhooks.sender import HttpxWebhookSender

DEFAULT_STORE_THREADS = 8


def build_connectors(settings: Settings) -> dict[str, Connector]:
    connectors: dict[str, Connector] = {}
    if settings.sandbox_enabled:
        from billfold.connectors.sandbox import SandboxConnector

        sandbox = SandboxConnector(step_delay=settings.sandbox_step_delay)
        connectors[sandbox.kind] = sandbox
    from billfold.connectors.simplefin import SimpleFinConnector

    simplefin = SimpleFinConnector()
    connectors[simplefin.kind] = simplefin
    from billfold.connectors.statements import StatementConnector

    statements = StatementConnector()
    connectors[statements.kind] = statements
    ofx = _ofx_connector(settings)
    if ofx is not None:
        connectors[ofx.kind] = ofx
    return connectors


def _ofx_connector(settings: Settings) -> Connector | None:
    """The OFX connector when the optional `ofx` extra (ofxtools, GPL-3.0) is installed."""
    try:
        import ofxtools  # noqa: F401
    except ImportError:
        if settings.ofx_servers is not None:
            raise RuntimeError(
                "BILLFOLD_OFX_SERVERS is set but the `ofx` extra is not installed: "
                "pip install 'billfold[ofx]'"
            ) from None
        return None
    from billfold.connectors.ofx import OfxConnector, load_servers_file

    extra = load_servers_file(settings.ofx_servers) if settings.ofx_servers else ()
    return OfxConnector(extra_institutions=extra)


def webhook_policy(settings: Settings) -> WebhookPolicy:
    try:
        schedule = tuple(float(x) for x in settings.webhook_retry_schedule.split(",") if x.strip())
    except ValueError as exc:
        raise ValueError("BILLFOLD_WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds") from exc
    return WebhookPolicy(
        retry_schedule=schedule,
        disable_after=timedelta(hours=settings.webhook_disable_after_hours),
    )


def store_calls(settings: Settings) -> StoreCalls:
    """Where async code runs store work: on threads on PostgreSQL, whose round trips
    then overlap, on the event loop on SQLite (see `jobs.store_calls`), unless configured."""
    threads = settings.store_threads
    if threads is None:
        sqlite = settings.effective_database_url.startswith("sqlite")
        threads = 0 if sqlite else DEFAULT_STORE_THREADS
    return ThreadedStoreCalls(threads) if threads else InlineStoreCalls()


def _notify_each(wakeups: Wakeups) -> Callable[[set[str]], None]:
    """A commit listener that notifies every key in-process (the non-PostgreSQL setups)."""

    def notify(keys: set[str]) -> None:
        for key in keys:
            wakeups.notify(key)

    return notify


class Container:
    """Everything a running Billfold needs, wired once from `Settings`."""

    def __init__(
        self, settings: Settings, *, connectors: dict[str, Connector] | None = None
    ) -> None:
        self.settings = settings
        database = Database(settings.effective_database_url)
        keys = load_key_ring(settings.secret_key, settings.key_file)
        self.store = Store(database, keys)
        self.job_views = JobViewCache()
        self.backend: JobBackend
        self.wakeups: Wakeups
        self.job_changes: Wakeups
        if settings.job_backend == "procrastinate":
            self.backend = ProcrastinateJobBackend(
                database,
                run_workers=settings.run_workers,
                heartbeat_seconds=settings.worker_heartbeat_seconds,
                stalled_after_seconds=settings.worker_stalled_seconds,
            )
            self.wakeups = PgWakeups(database, "billfold_wakeups")
            # Other processes' commits invalidate this process's job views too.
            self.job_changes = PgWakeups(
                database, "billfold_job_changes", on_keys=self.job_views.invalidate
            )
        else:
            self.backend = EmbeddedJobBackend(database, lease_seconds=settings.job_lease_seconds)
            self.wakeups = LocalWakeups()
            self.job_changes = LocalWakeups()
        self.store_calls = store_calls(settings)
        self.ctx = ServiceContext(
            store=self.store,
            jobs=self.backend,
            wakeups=self.wakeups,
            job_changes=self.job_changes,
            calls=self.store_calls,
            policy=JobPolicy(
                challenge_ttl=timedelta(seconds=settings.challenge_ttl_seconds),
                job_deadline=timedelta(seconds=settings.job_deadline_seconds),
            ),
        )
        self.connectors = connectors if connectors is not None else build_connectors(settings)
        self.runner = JobRunner(
            ctx=self.ctx,
            wakeups=self.wakeups,
            connectors=self.connectors,
        )
        self.runner.install()
        install_synapse_tasks(self.ctx)
        self._webhook_sender = HttpxWebhookSender()
        self.webhooks = WebhookDispatcher(self.ctx, self._webhook_sender, webhook_policy(settings))
        self.backend.register(DELIVER_WEBHOOK, self._deliver_webhook)
        self.store.on_deliveries_created(self.webhooks.queue)
        self.backend.add_periodic(
            "webhook_sweep", timedelta(seconds=settings.webhook_sweep_seconds), self.webhooks.sweep
        )
        self.backend.add_periodic(
            "refresh_tick", timedelta(seconds=settings.refresh_tick_seconds), self._refresh_tick
        )
        self.backend.add_periodic(
            "recover_jobs", timedelta(seconds=settings.recover_jobs_seconds), self._recover_jobs
        )
        self.api_keys = ApiKeyVerifier(self.ctx, settings.api_key_cache_seconds)
        self.store.on_jobs_changed(self.job_views.invalidate)
        if isinstance(self.wakeups, PgWakeups):
            self.store.on_wakes(committing=self.wakeups.notify_within)
        else:
            self.store.on_wakes(committed=_notify_each(self.wakeups))
        if isinstance(self.job_changes, PgWakeups):
            # Other processes hear of a change through a NOTIFY sent in its own transaction.
            self.store.on_jobs_committing(self.job_changes.notify_within)
        else:
            self.store.on_jobs_changed(_notify_each(self.job_changes))
        self._started = False

    async def _deliver_webhook(self, args: Mapping[str, str]) -> None:
        await self.webhooks.deliver(args["delivery_id"])

    async def _refresh_tick(self) -> None:
        enqueue_due_refreshes(ctx=self.ctx, per_institution=self.settings.refresh_per_institution)

    async def _recover_jobs(self) -> None:
        await self.runner.recover()

    def prepare(self) -> None:
        """Migrate the schema and fill the institution directory (safe to repeat)."""
        self.store.migrate()
        if isinstance(self.backend, ProcrastinateJobBackend):
            ensure_schema(self.store.database)
        sync_directory(ctx=self.ctx, connectors=self.connectors.values())

    async def start(self) -> None:
        self.prepare()
        for wakeups in (self.wakeups, self.job_changes):
            if isinstance(wakeups, PgWakeups):
                await wakeups.start()
            elif isinstance(wakeups, LocalWakeups):
                wakeups.bind(asyncio.get_running_loop())
        await self.backend.start()
        if self.settings.run_workers:
            await self.runner.recover()
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.backend.stop()
            for wakeups in (self.wakeups, self.job_changes):
                if isinstance(wakeups, PgWakeups):
                    await wakeups.stop()
            self._started = False
        await self._webhook_sender.close()
        self.store_calls.close()
        self.store.close()
