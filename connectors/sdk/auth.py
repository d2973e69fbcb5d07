"""httpx Auth flows for the header-token schemes vendors use. Their repr never shows the token."""

from collections.abc import Generator

import httpx
from pydantic import SecretStr


class HeaderToken(httpx.Auth):
    """``Authorization: <scheme> <token>`` (Bearer, or Token for viasto)."""

    def __init__(self, token: SecretStr, *, scheme: str = "Bearer") -> None:
        self._token = token
        self._scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"{self._scheme} {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return f"HeaderToken(scheme={self._scheme!r}, token='***')"
