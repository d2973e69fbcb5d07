"""``POST /api/v1/passthrough``: a raw request to the connection's vendor, made safe.

The path stays under the vendor's API base URL (no scheme, host, ``..`` or ``//``, encoded or
not); the connection's credentials are injected and a caller's own auth headers refused; the
connector's rate limit applies; redirects are not followed; the answer is bounded in size,
keeps only an allow-list of headers, and has the connection's secrets masked. One audit line
per call: tenant, connection, method, path, status; never a body.
"""

import base64
import json
import logging
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from connectors import (
    Connector,
    ConnectorError,
    InvalidVendorResponse,
    VendorTimeout,
    VendorUnavailable,
)
from schemas.writes import PassthroughRequest, PassthroughResponse
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.writes.validation import WriteRejected, error

audit = logging.getLogger("unified_ats.passthrough")
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
REFUSED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "x-connector-token",
    }
)
CREDENTIAL_HEADER = re.compile(r"auth|token|secret|key|session|password", re.I)
KEPT_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-disposition",
        "retry-after",
        "etag",
        "last-modified",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-total-count",
        "x-total",
        "x-per-page",
        "x-page",
    }
)


def vendor_path(path: str) -> str:
    """``path`` as a path under the vendor's base URL, or a 422 saying why not."""
    problems = []
    parts = urlsplit(path)
    decoded = path
    for _ in range(3):  # %252e%252e decodes twice before it is a dot segment
        decoded = unquote(decoded)
    if parts.scheme or parts.netloc or path.startswith("//") or "\\" in decoded:
        problems.append("must be a path relative to the vendor's API, not a URL")
    elif parts.query or parts.fragment or "?" in decoded or "#" in decoded:
        problems.append("must not carry a query or fragment: use params")
    elif any(segment in {".", ".."} for segment in decoded.split("/")):
        problems.append("must not contain . or .. segments")
    elif any(not c.isprintable() or c.isspace() for c in decoded):
        problems.append("must not contain spaces or control characters")
    if problems:
        raise WriteRejected([error(["path"], "path_invalid", problems[0])])
    return "/" + path.lstrip("/")


def checked_headers(headers: dict[str, str] | None) -> dict[str, str]:
    refused = sorted(
        name
        for name in headers or {}
        if name.lower() in REFUSED_HEADERS or CREDENTIAL_HEADER.search(name)
    )
    if refused:
        raise WriteRejected(
            [
                error(
                    ["headers", name],
                    "header_refused",
                    "credentials and connection headers are set by the server",
                )
                for name in refused
            ]
        )
    return dict(headers or {})


def _body(request: PassthroughRequest) -> dict[str, Any]:
    if request.data is None:
        return {}
    if request.request_format == "JSON":
        return {"json": request.data}
    if request.request_format == "XML":
        if not isinstance(request.data, str):
            raise WriteRejected([error(["data"], "string_type", "an XML body is a string")])
        return {"content": request.data.encode(), "headers": {"Content-Type": "application/xml"}}
    if not isinstance(request.data, dict) or not all(
        isinstance(v, str | int | float) for v in request.data.values()
    ):
        raise WriteRejected(
            [error(["data"], "dict_type", "a form body is an object of scalar fields")]
        )
    fields = {str(k): str(v) for k, v in request.data.items()}
    if request.request_format == "MULTIPART":
        return {"files": {k: (None, v) for k, v in fields.items()}}
    return {"data": fields}


async def passthrough(
    connector: Connector[Any], connection: ConnectionInfo, request: PassthroughRequest
) -> PassthroughResponse:
    path = vendor_path(request.path)
    headers = checked_headers(request.headers)
    body = _body(request)
    headers.update(body.pop("headers", {}))
    http = connector.http
    outgoing = http.client.build_request(
        request.method,
        http.url(path),
        params=request.params,
        headers=headers,
        timeout=httpx.Timeout(request.timeout),
        **body,
    )
    rate = connector.passthrough_rate(request.method, path)
    outcome = "no answer"
    try:
        if rate is None:
            status, kept, content = await _send(connector, outgoing)
        else:
            async with http.limiter.slot(rate):
                status, kept, content = await _send(connector, outgoing)
        outcome = str(status)
    except ConnectorError as exc:
        outcome = exc.code
        raise
    finally:
        audit.info(
            "passthrough tenant=%s connection=%s method=%s path=%s status=%s",
            connection.tenant_id,
            connection.id,
            request.method,
            path,
            outcome,
        )
    return _answer(connector, status, kept, content, request.response_format)


async def _send(
    connector: Connector[Any], outgoing: httpx.Request
) -> tuple[int, dict[str, str], bytes]:
    http = connector.http
    vendor = connector.display_name
    try:
        response = await http.client.send(
            outgoing, auth=http.auth, stream=True, follow_redirects=False
        )
    except httpx.TimeoutException:
        raise VendorTimeout(f"{vendor} did not answer the passthrough request in time") from None
    except httpx.TransportError as exc:
        raise VendorUnavailable(f"{vendor} could not be reached ({type(exc).__name__})") from None
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise InvalidVendorResponse(
                    f"{vendor}'s answer is larger than {MAX_RESPONSE_BYTES} bytes"
                )
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise VendorTimeout(f"{vendor} did not finish its answer in time") from None
    finally:
        await response.aclose()
    kept = {k.lower(): v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
    kept.pop("content-length", None)  # of the vendor's (maybe compressed) body, not of data
    return response.status_code, kept, b"".join(chunks)


def _answer(
    connector: Connector[Any],
    status: int,
    headers: dict[str, str],
    content: bytes,
    wanted: str | None,
) -> PassthroughResponse:
    content_type = headers.get("content-type", "")
    if wanted is None:
        if "json" in content_type:
            wanted = "JSON"
        elif content_type.startswith("text/") or "xml" in content_type or not content:
            wanted = "TEXT"
        else:
            wanted = "BINARY"
    headers = {k: connector.redact(v) for k, v in headers.items()}
    if wanted == "BINARY":
        return PassthroughResponse(
            status=status,
            headers=headers,
            data=base64.b64encode(content).decode(),
            response_format="BINARY",
        )
    text = connector.redact(content.decode("utf-8", errors="replace"))
    if wanted == "JSON" and text:
        try:
            data = json.loads(text)
        except ValueError:
            # The vendor's answer as it is (an HTML error page, say), marked TEXT: a passthrough
            # reports what the vendor said rather than failing the call.
            pass
        else:
            return PassthroughResponse(
                status=status, headers=headers, data=data, response_format="JSON"
            )
    return PassthroughResponse(status=status, headers=headers, data=text, response_format="TEXT")
