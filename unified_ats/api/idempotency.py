"""``Idempotency-Key`` on POST routes: the same key and body get the first answer, once.

Only successes are kept (24 h). A failure that proves nothing was written (a 4xx, a 429, a
501) frees the key, so the retry runs; a failure that leaves the vendor's outcome unknown (a
timeout or 5xx after the write was sent) keeps the key marked, so the retry looks the record up
before writing again. A different body under a used key is a 422; a key whose first request is
still running is a 409.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header, Request, Response
from pydantic import BaseModel

from connectors import ConnectorError
from unified_ats.api.errors import ApiError, Unprocessable
from unified_ats.reads import RecordNotFound
from unified_ats.services import Services
from unified_ats.store.idempotency import KeyInFlight, KeyReused, Replay, fingerprint
from unified_ats.writes import OutcomeUnknown, WriteRejected

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Makes the POST safe to retry: the same key with the same body gets the "
        "first answer (kept 24 h) and writes to the vendor at most once.",
    ),
]
REPLAYED = "Idempotent-Replayed"


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """A route's answer as bytes, so that the same bytes can be replayed."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


class KeyBusy(ApiError):
    status_code = 409


async def idempotent(
    request: Request,
    services: Services,
    scope: str,
    key: str | None,
    run: Callable[[bool], Awaitable[Response]],
) -> Response:
    """``run(look_up_first)`` once per key; ``look_up_first`` after an unknown outcome."""
    if key is None:
        return await run(False)
    route = f"{request.method} {request.url.path}?{request.url.query}"
    try:
        claim = await services.idempotency.claim(
            scope, key, fingerprint(route, await request.body())
        )
    except KeyReused:
        raise Unprocessable(
            ["header", "Idempotency-Key"],
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request: use a new key per request",
        ) from None
    except KeyInFlight:
        raise KeyBusy("a request with this Idempotency-Key is still running") from None
    if isinstance(claim, Replay):
        return Response(
            claim.body,
            status_code=claim.status_code,
            media_type="application/json",
            headers={REPLAYED: "true"},
        )
    try:
        response = await run(claim.outcome_unknown)
    except BaseException as exc:
        await services.idempotency.release(claim, outcome_unknown=unknown(exc))
        raise
    if response.status_code >= 300:
        await services.idempotency.release(claim, outcome_unknown=response.status_code >= 500)
        return response
    await services.idempotency.finish(claim, response.status_code, bytes(response.body))
    return response


def unknown(exc: BaseException) -> bool:
    """Whether the vendor may have written: only errors that prove otherwise free the key."""
    if isinstance(exc, ApiError | WriteRejected | RecordNotFound):
        return False
    if isinstance(exc, OutcomeUnknown):
        return True
    if isinstance(exc, ConnectorError):
        return exc.http_status >= 500 and exc.http_status != 501
    return True
