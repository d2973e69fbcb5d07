"""Scrubbing of credentials out of any text that could leave the connector."""

import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

REDACTED = "***"
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:token|api_key|access_token|key|signature|x-amz-signature|x-amz-credential)=)[^&#\s]*"
)


class Redactor:
    """Replaces every known secret value, and secret-looking query parameters, with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self._listeners: list[Callable[[str], None]] = []

    def add(self, secret: str) -> None:
        if len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)
            for listener in self._listeners:
                listener(secret)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener`` with every secret known, now and each one added later."""
        self._listeners.append(listener)
        for secret in self._secrets:
            listener(secret)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _QUERY_SECRET.sub(rf"\1{REDACTED}", text)


def safe_target(url: str) -> str:
    """The part of a URL that is safe to show: its path only. No query string (credentials
    travel there), no userinfo, and no scheme, host or port: error messages reach API clients
    and operators, and a vendor ``base_url`` may be an internal address (an emulator, a
    proxy)."""
    without_query = url.split("?", 1)[0].split("#", 1)[0]
    if "://" in without_query:
        return urlsplit(without_query).path or "/"
    return without_query
