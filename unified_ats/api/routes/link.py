"""The hosted link flow: link tokens and their exchange (API key), the redirect allow-list, and
the server-rendered page an end user opens to connect their ATS (no API key: the link token is
its credential, single use and short-lived)."""

import math
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from connectors import ConnectorError, RateLimited
from unified_ats.api.deps import ServicesDep, TenantDep
from unified_ats.api.errors import ApiError, NotFoundError, Unprocessable
from unified_ats.api.idempotency import IdempotencyKey, idempotent, model_response
from unified_ats.api.link_models import (
    LinkSettings,
    LinkSettingsUpdate,
    LinkTokenCreate,
    LinkTokenCreated,
    LinkTokenExchange,
    LinkTokenExchanged,
)
from unified_ats.api.link_page import html_responses, message_page, page
from unified_ats.api.responses import errors
from unified_ats.api.routes.connections import webhook_url
from unified_ats.connector_pool import SettingsRejected
from unified_ats.linking import (
    CSRF_COOKIE,
    LinkRefused,
    csrf_ok,
    csrf_token,
    form_spec,
    link_tokens,
    new_nonce,
    redirect_allowed,
    settings_from_form,
    submit,
    url_problem,
)
from unified_ats.services import Services
from unified_ats.store.idempotency import scope_of
from unified_ats.store.link_tokens import LINK_TOKEN_PREFIX, LinkSession, LinkTokenGone

router = APIRouter(prefix="/api/ats/v1", tags=["link"])
page_router = APIRouter(prefix="/link", tags=["link"])

MAX_TOKEN_LENGTH = 200


class Gone(ApiError):
    status_code = 410


# --- API: link tokens, their exchange, the allow-list ------------------------------------------


def public_base(services: Services, request: Request) -> str:
    return (services.settings.public_base_url or str(request.base_url)).rstrip("/")


@router.post(
    "/link-tokens",
    response_model=LinkTokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 404, 409, 422),
)
async def link_tokens_create(
    body: LinkTokenCreate,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A single-use link token and the URL of the hosted page where your end user connects
    their ATS (or, with `connection_id`, gives new credentials for an existing connection).
    The page sends them back to `redirect_url` with a `public_token` to exchange."""

    async def run(look_up_first: bool) -> Response:
        connector = body.connector
        if connector is not None:
            try:
                services.pool.connector_class(connector)
            except SettingsRejected as exc:
                raise Unprocessable(["body", "connector"], "unknown_connector", str(exc)) from None
        if body.connection_id is not None:
            connection = await services.accounts.connection(body.connection_id)
            if connection is None or connection.tenant_id != tenant:
                raise NotFoundError("no such connection")
            if connector is not None and connector != connection.connector:
                raise Unprocessable(
                    ["body", "connector"],
                    "connector_mismatch",
                    f"connection {connection.id} is a {connection.connector} connection",
                )
            connector = connection.connector
        problem = url_problem(body.redirect_url)
        if problem is not None:
            raise Unprocessable(["body", "redirect_url"], "invalid_url", f"redirect_url {problem}")
        tokens = link_tokens(services)
        if not redirect_allowed(body.redirect_url, await tokens.redirect_urls(tenant)):
            raise Unprocessable(
                ["body", "redirect_url"],
                "redirect_not_allowed",
                "redirect_url is not in this tenant's allow-list: add it (or its origin/*) "
                "with PUT /api/ats/v1/link-settings",
            )
        token, expires_at = await tokens.create(
            tenant,
            end_user_origin_id=body.end_user_origin_id,
            org_name=body.org_name,
            connector=connector,
            relink_connection_id=body.connection_id,
            redirect_url=body.redirect_url,
            state=body.state,
            expires_in=timedelta(seconds=body.expires_in),
        )
        created = LinkTokenCreated(
            link_token=token,
            url=f"{public_base(services, request)}/link/{token}",
            expires_at=expires_at,
        )
        return model_response(created, status.HTTP_201_CREATED)

    return await idempotent(request, services, scope_of(None, tenant), idempotency_key, run)


@router.post(
    "/link-tokens/exchange",
    response_model=LinkTokenExchanged,
    responses={
        **errors(400, 401, 404, 422),
        410: {**errors(404)[404], "description": "Exchanged already, or expired"},
    },
)
async def link_tokens_exchange(
    body: LinkTokenExchange, request: Request, services: ServicesDep, tenant: TenantDep
) -> LinkTokenExchanged:
    """What the page created, once: the connection, its connector token and its webhook URL
    (both null after a relink, where the existing ones keep working). A second exchange is a
    410; another tenant's public token is a 404."""
    try:
        outcome = await link_tokens(services).exchange(tenant, body.public_token)
    except LinkTokenGone as exc:
        raise Gone(str(exc)) from None
    if outcome is None:
        raise NotFoundError("no such public token")
    return LinkTokenExchanged(
        connection_id=outcome.connection_id,
        connector=outcome.connector,
        connector_token=outcome.connector_token,
        webhook_url=(
            webhook_url(services, request, outcome.webhook_secret)
            if outcome.webhook_secret
            else None
        ),
        relinked=outcome.relinked,
        end_user_origin_id=outcome.end_user_origin_id,
        org_name=outcome.org_name,
    )


@router.get("/link-settings", response_model=LinkSettings, responses=errors(401))
async def link_settings_get(services: ServicesDep, tenant: TenantDep) -> LinkSettings:
    """Where hosted link pages may send your end users back."""
    return LinkSettings(allowed_redirect_urls=await link_tokens(services).redirect_urls(tenant))


@router.put("/link-settings", response_model=LinkSettings, responses=errors(400, 401, 422))
async def link_settings_put(
    body: LinkSettingsUpdate, services: ServicesDep, tenant: TenantDep
) -> LinkSettings:
    """Replace the redirect allow-list: exact URLs, or `https://origin/path/*` prefixes."""
    for i, url in enumerate(body.allowed_redirect_urls):
        problem = url_problem(url, pattern=True)
        if problem is not None:
            raise Unprocessable(
                ["body", "allowed_redirect_urls", i], "invalid_url", f"this URL {problem}"
            )
    urls = list(dict.fromkeys(body.allowed_redirect_urls))
    await link_tokens(services).set_redirect_urls(tenant, urls)
    return LinkSettings(allowed_redirect_urls=urls)


# --- the page ----------------------------------------------------------------------------------

PAGE_ERRORS = {
    403: "The form's CSRF check failed (reload the page)",
    404: "No such link",
    410: "The link was used already, or expired",
}


async def open_link(services: Services, token: str) -> LinkSession | HTMLResponse:
    """The usable session of a link token, or the page that says why not."""
    link = None
    if token.startswith(LINK_TOKEN_PREFIX) and len(token) <= MAX_TOKEN_LENGTH:
        link = await link_tokens(services).find(token)
    if link is None:
        return message_page(
            404,
            "This link is not valid",
            "Check that you opened the whole link you were given, or ask the application "
            "that sent you here for a new one.",
        )
    if link.used_at is not None:
        return message_page(
            410,
            "This link was used already",
            "Each link connects one account once. If you still need to connect your ATS, ask "
            "the application that sent you here for a new link.",
        )
    if link.expires_at <= datetime.now(link.expires_at.tzinfo):
        return message_page(
            410,
            "This link has expired",
            "Ask the application that sent you here for a new link.",
        )
    return link


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def form_page(
    services: Services,
    request: Request,
    link: LinkSession,
    token: str,
    connector: str,
    *,
    nonce: str,
    status_code: int = 200,
    message: str | None = None,
    field_errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    cls = services.pool.connector_class(connector)
    spec = form_spec(cls, allow_urls=services.settings.allow_base_url_override)
    field_errors = field_errors or {}
    advanced = {f.name for f in spec.advanced}
    response = page(
        "form.html",
        status_code,
        spec=spec,
        org_name=link.org_name,
        relink=link.relink_connection_id is not None,
        action=f"{request.scope.get('root_path', '')}/link/{token}",
        change_url=(
            f"{request.scope.get('root_path', '')}/link/{token}" if link.connector is None else None
        ),
        csrf=csrf_token(services.signing_key, nonce, link.token_hash),
        message=message,
        errors=field_errors,
        values={k: v for k, v in (values or {}).items() if k not in secret_names(spec)},
        advanced_open=bool(advanced & set(field_errors)),
        expires_at=when(link.expires_at),
    )
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=int(
            max(60, (link.expires_at - datetime.now(link.expires_at.tzinfo)).total_seconds())
        ),
        path="/link/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def secret_names(spec: Any) -> set[str]:
    return {f.name for f in spec.fields if f.secret}


def choose_page(
    services: Services, request: Request, link: LinkSession, token: str, error: str | None = None
) -> HTMLResponse:
    return page(
        "choose.html",
        422 if error else 200,
        connectors=services.pool.registry.all(),
        org_name=link.org_name,
        action=f"{request.scope.get('root_path', '')}/link/{token}",
        error=error,
    )


def known_connector(services: Services, name: str) -> bool:
    try:
        services.pool.connector_class(name)
    except SettingsRejected:
        return False
    return True


@page_router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses=html_responses(
        {
            200: "The page: the connector list, or the form of the chosen connector",
            **PAGE_ERRORS,
            422: "An unknown connector was chosen (the list again)",
        }
    ),
)
async def link_page_get(
    token: str,
    request: Request,
    services: ServicesDep,
    connector: str | None = Query(default=None, description="The chosen ATS (a connector name)."),
) -> HTMLResponse:
    """The hosted link page (HTML, works without JavaScript)."""
    link = await open_link(services, token)
    if isinstance(link, HTMLResponse):
        return link
    chosen = link.connector or connector
    if chosen is None:
        return choose_page(services, request, link, token)
    if len(chosen) > 64 or not known_connector(services, chosen):
        return choose_page(services, request, link, token, "Choose one of these.")
    nonce = request.cookies.get(CSRF_COOKIE) or ""
    if not 16 <= len(nonce) <= 100:
        nonce = new_nonce()
    return form_page(services, request, link, token, chosen, nonce=nonce)


@page_router.post(
    "/{token}",
    response_class=HTMLResponse,
    status_code=status.HTTP_303_SEE_OTHER,
    responses=html_responses(
        {
            303: "Connected: on to the redirect URL with public_token and state",
            **PAGE_ERRORS,
            422: "Invalid settings or credentials the vendor refused (the form again)",
            429: "The vendor is rate limiting (the form again)",
            502: "The vendor failed (the form again)",
            503: "The vendor is unavailable (the form again)",
            504: "The vendor did not answer in time (the form again)",
        }
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "csrf": {"type": "string"},
                            "connector": {"type": "string"},
                        },
                        "additionalProperties": {"type": "string"},
                        "description": "The page's hidden fields and the connector's settings.",
                    }
                }
            },
        }
    },
)
async def link_page_submit(token: str, request: Request, services: ServicesDep) -> Response:
    """The page's form: checks the CSRF token and the settings, verifies them with the vendor,
    creates (or relinks) the connection, then redirects (303) to the redirect URL."""
    link = await open_link(services, token)
    if isinstance(link, HTMLResponse):
        return link
    try:
        form = await request.form(max_files=0, max_fields=100)
    except Exception:  # a malformed body: the form again, like a failed CSRF check
        form = None
    fields = {k: v for k, v in form.items() if isinstance(v, str)} if form is not None else {}
    nonce = request.cookies.get(CSRF_COOKIE)
    if not csrf_ok(services.signing_key, nonce, link.token_hash, fields.get("csrf")):
        return message_page(
            403,
            "Please reload the page",
            "This form could not be checked (it was open too long, or cookies are blocked). "
            "Go back, reload the page and submit it again.",
        )
    assert nonce is not None
    chosen = link.connector or fields.get("connector")
    if not chosen or len(chosen) > 64 or not known_connector(services, chosen):
        return choose_page(services, request, link, token, "Choose one of these.")
    spec = form_spec(
        services.pool.connector_class(chosen),
        allow_urls=services.settings.allow_base_url_override,
    )
    raw = settings_from_form(spec, fields)
    try:
        submitted = await submit(services, link_tokens(services), link, chosen, raw)
    except LinkRefused as exc:
        return form_page(
            services,
            request,
            link,
            token,
            chosen,
            nonce=nonce,
            status_code=422,
            message=exc.message,
            field_errors=exc.field_errors,
            values=fields,
        )
    except LinkTokenGone:
        return message_page(
            410,
            "This link was used already",
            "Ask the application that sent you here for a new link.",
        )
    except ConnectorError as exc:
        vendor_down = exc.http_status in (429, 502, 503, 504)
        response = form_page(
            services,
            request,
            link,
            token,
            chosen,
            nonce=nonce,
            status_code=exc.http_status if vendor_down else 422,
            message=(
                f"{spec.display_name} could not be reached ({exc.message}). Try again in a moment."
                if vendor_down
                else f"{spec.display_name} refused these settings: {exc.message}"
            ),
            values=fields,
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(math.ceil(exc.retry_after or 1))
        return response
    return RedirectResponse(
        submitted.redirect_to,
        status_code=status.HTTP_303_SEE_OTHER,
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
    )
