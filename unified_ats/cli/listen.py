"""``unified-ats webhooks listen``: a local receiver that verifies and prints events, so a
developer sees them in the first minute, before writing their own receiver."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MAX_BODY = 1024 * 1024


def describe(event: dict[str, Any]) -> str:
    """One line for a person: time, type, then the ids that say what changed."""
    data = event.get("data") or {}
    keys = ("model", "id", "remote_id", "connection_id", "state", "error", "endpoint_id")
    shown = " ".join(f"{k}={data[k]}" for k in keys if data.get(k) not in (None, ""))
    return f"{event.get('timestamp', '')}  {event.get('type', '?'):<24} {shown}"


def receiver_app(secret: str | None, emit: Callable[[str], None], *, as_json: bool) -> Starlette:
    """Answers 204 to a verified event (any path), 401 to a bad signature, 413 beyond 1 MiB.
    Without ``secret`` events are printed unverified (and said to be)."""
    signer = Webhook(secret) if secret else None

    async def receive(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        verified = "unverified"
        if signer is not None:
            try:
                signer.verify(body, dict(request.headers))
            except WebhookVerificationError as exc:
                emit(
                    f"{datetime.now(UTC):%H:%M:%S}  refused: {exc} (webhook-id "
                    f"{request.headers.get('webhook-id', '?')})"
                )
                return Response(status_code=401)
            verified = "verified"
        try:
            event = json.loads(body)
        except ValueError:
            emit("refused: the body is not JSON")
            return Response(status_code=400)
        if as_json:
            emit(json.dumps({"webhook_id": request.headers.get("webhook-id"), **event}))
        else:
            emit(f"{describe(event)}  [{verified}]")
        return Response(status_code=204)

    return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
