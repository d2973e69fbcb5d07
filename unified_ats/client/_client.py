"""``Client`` and ``AsyncClient``: configuration, the namespaces, and the connection pool."""

import copy
from types import TracebackType
from typing import Generic, Self, TypedDict, Unpack

import httpx

from unified_ats.client._core import Core, RetryPolicy
from unified_ats.client._namespace import R
from unified_ats.client._runners import AsyncRunner, SyncRunner
from unified_ats.client.resources import (
    Applications,
    Attachments,
    Candidates,
    Connections,
    Connectors,
    JobInterviewStages,
    Jobs,
    LinkSettingsRoutes,
    LinkTokens,
    Passthrough,
    SyncStatusRoutes,
)
from unified_ats.client.webhooks import Webhooks

DEFAULT_TIMEOUT = 30.0


class Namespaces(Generic[R]):
    """The namespaces both clients expose; adding one is two lines here."""

    _runner: R
    candidates: Candidates[R]
    attachments: Attachments[R]
    applications: Applications[R]
    jobs: Jobs[R]
    job_interview_stages: JobInterviewStages[R]
    sync_status: SyncStatusRoutes[R]
    connections: Connections[R]
    connectors: Connectors[R]
    passthrough: Passthrough[R]
    webhooks: Webhooks[R]
    link_tokens: LinkTokens[R]
    link_settings: LinkSettingsRoutes[R]

    def _attach(self, runner: R) -> None:
        self._runner = runner
        self.candidates = Candidates(runner)
        self.attachments = Attachments(runner)
        self.applications = Applications(runner)
        self.jobs = Jobs(runner)
        self.job_interview_stages = JobInterviewStages(runner)
        self.sync_status = SyncStatusRoutes(runner)
        self.connections = Connections(runner)
        self.connectors = Connectors(runner)
        self.passthrough = Passthrough(runner)
        self.webhooks = Webhooks(runner)
        self.link_tokens = LinkTokens(runner)
        self.link_settings = LinkSettingsRoutes(runner)

    def with_connector_token(self, connector_token: str | None) -> Self:
        """The same client for another connection of the tenant: it shares this client's
        connection pool (close this one, not the copy)."""
        clone = copy.copy(self)
        clone._attach(self._runner.derive(self._runner.core.with_connector_token(connector_token)))
        return clone

    @property
    def base_url(self) -> str:
        return self._runner.core.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._runner.core.describe()})"


class Options(TypedDict, total=False):
    """``timeout``: seconds or an ``httpx.Timeout`` (30 s); ``max_retries``: retries after a
    ``Retry-After`` (2); ``max_retry_wait``: the longest ``Retry-After`` waited for (60 s)."""

    timeout: float | httpx.Timeout
    max_retries: int
    max_retry_wait: float


def _core(
    base_url: str | httpx.URL,
    api_key: str,
    connector_token: str | None,
    options: Options,
    sharing: tuple[object, object],
) -> Core:
    if None not in sharing:
        raise ValueError("give transport or http_client, not both")
    unknown = sorted(set(options) - Options.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    policy = RetryPolicy(
        max_retries=options.get("max_retries", 2), max_wait=options.get("max_retry_wait", 60.0)
    )
    return Core(base_url, api_key, connector_token, policy)


class Client(Namespaces[SyncRunner]):
    """A blocking client of the unified ATS API.

    ``base_url`` is the server's root (``http://127.0.0.1:8000``). Data routes need the
    ``connector_token`` of one connection; ``connections`` and ``connectors`` need only the API
    key. ``transport`` (e.g. ``httpx.MockTransport``) or a whole ``http_client`` may be given;
    a given ``http_client`` is not closed by this client.

    Options: ``timeout`` (30 s), ``max_retries`` (2) and ``max_retry_wait`` (60 s): answers
    ``429`` (and ``503`` to a GET) carrying ``Retry-After`` are retried up to ``max_retries``
    times, waiting at most ``max_retry_wait`` seconds each time.
    """

    def __init__(
        self,
        base_url: str | httpx.URL,
        api_key: str,
        connector_token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        **options: Unpack[Options],
    ) -> None:
        core = _core(base_url, api_key, connector_token, options, (transport, http_client))
        timeout = options.get("timeout", DEFAULT_TIMEOUT)
        http = http_client or httpx.Client(transport=transport, timeout=timeout)
        self._attach(SyncRunner(core, http, owns_http=http_client is None))

    def close(self) -> None:
        """Close the connection pool (unless it came from ``http_client``)."""
        self._runner.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(Namespaces[AsyncRunner]):
    """The asyncio client: the same namespaces and arguments as ``Client``; every call is
    awaited, and ``list(...)`` is iterated with ``async for``."""

    def __init__(
        self,
        base_url: str | httpx.URL,
        api_key: str,
        connector_token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        **options: Unpack[Options],
    ) -> None:
        core = _core(base_url, api_key, connector_token, options, (transport, http_client))
        timeout = options.get("timeout", DEFAULT_TIMEOUT)
        http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)
        self._attach(AsyncRunner(core, http, owns_http=http_client is None))

    async def aclose(self) -> None:
        """Close the connection pool (unless it came from ``http_client``)."""
        await self._runner.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
