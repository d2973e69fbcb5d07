"""The hosted link flow's rules, apart from HTTP: where the end user may be sent back, the form
a connector's settings make, the CSRF token, and the submit that creates or relinks.
"""

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from connectors import Connector, ConnectorSettings
from unified_ats import onboarding
from unified_ats.services import Services
from unified_ats.store.link_tokens import LinkOutcome, LinkSession, LinkTokens

DEFAULT_EXPIRES_IN = timedelta(hours=1)
MAX_EXPIRES_IN = timedelta(days=7)
MAX_REDIRECT_URLS = 50
MAX_URL_LENGTH = 2000
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def link_tokens(services: Services) -> LinkTokens:
    return LinkTokens(services.accounts.sessions, services.accounts.cipher)


# --- where the end user goes back to ---------------------------------------------------------


def url_problem(url: str, *, pattern: bool = False) -> str | None:
    """Why ``url`` cannot be an allowed redirect (None: it can). https only, except to this
    machine; no credentials or fragment; a pattern may end in ``/*`` (any path below)."""
    if len(url) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return "contains spaces or control characters"
    if pattern and url.endswith("/*"):
        url = url[:-1]
    if "*" in url:
        return "a wildcard is only allowed as a final /* (e.g. https://app.example.com/*)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "is not a valid URL"
    if not parts.hostname:
        return "must be an absolute URL with a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment or url.endswith("#"):
        return "must not have a fragment"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_local(parts.hostname):
        return None
    return "must be https (http only for localhost or 127.0.0.1)"


def is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_allowed(url: str, allowed: list[str]) -> bool:
    """Exactly one of the allowed URLs, or below an allowed ``https://origin/path/*``."""
    if url_problem(url) is not None:
        return False
    target = urlsplit(url)
    for entry in allowed:
        if not entry.endswith("/*"):
            if url == entry:
                return True
            continue
        prefix = urlsplit(entry[:-1])
        if (
            (target.scheme, target.hostname, target.port)
            == (prefix.scheme, prefix.hostname, prefix.port)
            and target.path.startswith(prefix.path)
            and ".." not in target.path.split("/")
        ):
            return True
    return False


def with_query(url: str, **params: str | None) -> str:
    """``url`` with these query parameters added (replacing ones of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- CSRF: a signed double submit -------------------------------------------------------------

CSRF_COOKIE = "uats_link_csrf"


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(signing_key: bytes, nonce: str, token_hash: str) -> str:
    """The form's hidden field: the cookie's nonce bound to this link session."""
    message = f"link-csrf:{nonce}:{token_hash}".encode()
    return hmac.new(signing_key, message, hashlib.sha256).hexdigest()


def csrf_ok(signing_key: bytes, nonce: str | None, token_hash: str, submitted: str | None) -> bool:
    if not nonce or not submitted or len(nonce) > 100 or len(submitted) > 100:
        return False
    return hmac.compare_digest(csrf_token(signing_key, nonce, token_hash), submitted)


# --- the form ----------------------------------------------------------------------------------

ACRONYMS = {"api": "API", "id": "ID", "url": "URL", "cv": "CV"}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str
    """``text``, ``password``, ``number`` or ``checkbox``."""
    required: bool
    secret: bool
    default: Any = None
    description: str | None = None
    step: str | None = None


@dataclass(frozen=True)
class FormSpec:
    connector: str
    display_name: str
    help: list[str]
    primary: list[FormField]
    advanced: list[FormField]

    @property
    def fields(self) -> list[FormField]:
        return self.primary + self.advanced


def label_of(name: str) -> str:
    words = [ACRONYMS.get(w, w) for w in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _type_of(prop: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The JSON type of a property (``X | None`` read as X) and the branch that has it."""
    if "type" in prop:
        return prop["type"], prop
    for branch in prop.get("anyOf", []):
        if branch.get("type") not in (None, "null"):
            return branch["type"], branch
    return None, prop


def form_spec(cls: type[Connector[ConnectorSettings]], *, allow_urls: bool) -> FormSpec:
    """The fields a connector's settings JSON Schema asks for: what the connector names first
    (else the required ones and the credentials), then the rest as advanced settings. URL
    settings (where the server sends the credentials) only where the operator allows them."""
    schema = cls.settings_model.model_json_schema()
    required = set(schema.get("required", []))
    fields: dict[str, FormField] = {}
    for name, prop in schema.get("properties", {}).items():
        if name.endswith("_url") and not allow_urls:
            continue
        kind, branch = _type_of(prop)
        secret = branch.get("format") == "password" or bool(branch.get("writeOnly"))
        if kind not in ("string", "integer", "number", "boolean", None):
            continue  # lists and objects: set through the API, not a form
        input_kind = {"integer": "number", "number": "number", "boolean": "checkbox"}.get(
            kind or "", "password" if secret else "text"
        )
        fields[name] = FormField(
            name=name,
            label=label_of(name),
            kind=input_kind,
            required=name in required,
            secret=secret,
            default=None if secret else prop.get("default"),
            description=prop.get("description"),
            step="1" if kind == "integer" else ("any" if kind == "number" else None),
        )
    named = [n for n in cls.link_fields if n in fields] or [
        n for n, f in fields.items() if f.required or f.secret
    ]
    primary = [fields[n] for n in named]
    advanced = [f for n, f in fields.items() if n not in named]
    paragraphs = [p.strip() for p in cls.link_help.split("\n\n") if p.strip()]
    return FormSpec(cls.name, cls.display_name, paragraphs, primary, advanced)


def settings_from_form(spec: FormSpec, form: Mapping[str, str]) -> dict[str, Any]:
    """The submitted values as raw settings: empty optional fields are left out (their
    defaults apply), an unchecked box is false."""
    raw: dict[str, Any] = {}
    for f in spec.fields:
        value = form.get(f.name)
        if f.kind == "checkbox":
            if f.name in form or f.default is not None:
                raw[f.name] = value is not None and value not in ("", "false", "off", "0")
            continue
        if value is None or value.strip() == "":
            continue
        raw[f.name] = value.strip() if not f.secret else value
    return raw


# --- the submit --------------------------------------------------------------------------------


class LinkRefused(Exception):
    """A submit the page shows again with a message (nothing was created)."""

    def __init__(self, message: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


@dataclass
class Submitted:
    public_token: str
    redirect_to: str
    outcome: LinkOutcome = field(repr=False)


def field_errors_of(errors: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """Pydantic-like errors by field name, and the ones about the whole form."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    for error in errors:
        loc = error.get("loc") or ()
        message = str(error.get("msg", "invalid value"))
        if loc and isinstance(loc[0], str):
            by_field.setdefault(loc[0], message)
        else:
            general.append(message.removeprefix("Value error, "))
    return by_field, general


async def submit(
    services: Services,
    tokens: LinkTokens,
    link: LinkSession,
    connector: str,
    raw_settings: Mapping[str, Any],
) -> Submitted:
    """Check the settings with the vendor, claim the link token, create or relink, and keep
    the outcome behind a public token. Raises LinkRefused (retry allowed), LinkTokenGone, or
    the vendor's ConnectorError (retry allowed)."""
    try:
        verified = await onboarding.verify(services, connector, raw_settings)
    except onboarding.SettingsRejected as exc:
        by_field, general = field_errors_of(exc.errors)
        if not exc.errors:
            general = [str(exc)]
        raise LinkRefused(
            " ".join(general) or "Some settings are not valid: see below.", by_field
        ) from None
    except onboarding.CredentialsRejected as exc:
        raise LinkRefused(f"{exc}. Check them and try again.") from None
    await tokens.claim(link.id)
    try:
        if link.relink_connection_id is not None:
            connection = await onboarding.relink(
                services, link.tenant_id, link.relink_connection_id, verified
            )
            outcome = LinkOutcome(
                connection.id,
                connection.connector,
                None,
                None,
                True,
                link.end_user_origin_id,
                link.org_name,
            )
        else:
            connection, token, secret = await onboarding.store(
                services,
                link.tenant_id,
                verified,
                end_user_origin_id=link.end_user_origin_id,
                end_user_org_name=link.org_name,
            )
            outcome = LinkOutcome(
                connection.id,
                connection.connector,
                token,
                secret,
                False,
                link.end_user_origin_id,
                link.org_name,
            )
    except LookupError:
        await tokens.release(link.id)
        raise LinkRefused("The account to relink no longer exists.") from None
    except ValueError as exc:
        await tokens.release(link.id)
        raise LinkRefused(str(exc)) from None
    except BaseException:
        await tokens.release(link.id)
        raise
    public_token = await tokens.complete(link.id, outcome)
    redirect_to = with_query(link.redirect_url, public_token=public_token, state=link.state)
    return Submitted(public_token, redirect_to, outcome)
