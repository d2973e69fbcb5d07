"""The small, typed error hierarchy every connector raises.

Each error carries the HTTP status the unified API answers with, so the service maps them with
one handler (Polar style). Messages are built by our code from safe parts only (method, path
without query string, vendor error code); they never hold a credential.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar


class ConnectorError(Exception):
    """Base of every error a connector raises."""

    code: ClassVar[str] = "connector_error"
    http_status: ClassVar[int] = 502
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, vendor_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.vendor_status = vendor_status
        self.vendor_code: str | None = None
        """The vendor's own error code (e.g. Welcome Kit's ``validation_failed``), when given."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, vendor_status={self.vendor_status})"


class AuthFailed(ConnectorError):
    """The vendor rejected the connection's credentials (401/403)."""

    code = "vendor_auth_failed"
    http_status = 502


class NotFound(ConnectorError):
    """The vendor does not have this object (any more)."""

    code = "not_found"
    http_status = 404


class RouteNotFound(ConnectorError):
    """A route that must exist answered 404 (an outage, a moved API, a wrong account). It says
    nothing about the record being read, which must never be marked deleted for it."""

    code = "vendor_route_not_found"
    http_status = 502


@contextmanager
def not_about_the_record(what: str) -> Iterator[None]:
    """Around the calls of a single read that are not the record's own URL: a 404 there is a
    RouteNotFound, so only the vendor's answer about the record itself can say it is gone."""
    try:
        yield
    except NotFound as exc:
        raise RouteNotFound(
            f"{what} answered 404: the vendor's route or account is missing, not the record",
            vendor_status=exc.vendor_status,
        ) from None


class RateLimited(ConnectorError):
    """The vendor kept answering 429, or asked us to wait longer than our cap."""

    code = "vendor_rate_limited"
    http_status = 429
    retryable = True

    def __init__(
        self, message: str, *, retry_after: float | None = None, vendor_status: int | None = 429
    ) -> None:
        super().__init__(message, vendor_status=vendor_status)
        self.retry_after = retry_after


class VendorUnavailable(ConnectorError):
    """5xx or network failure that survived our retries."""

    code = "vendor_unavailable"
    http_status = 503
    retryable = True


class VendorTimeout(ConnectorError):
    """The vendor did not answer in time, after retries."""

    code = "vendor_timeout"
    http_status = 504
    retryable = True


class InvalidVendorResponse(ConnectorError):
    """The vendor answered something we cannot read: bad JSON, wrong shape."""

    code = "vendor_bad_response"
    http_status = 502


class VendorRejectedRequest(ConnectorError):
    """The vendor refused our request as invalid (400/422...): field errors, scope, validation."""

    code = "vendor_rejected_request"
    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        vendor_status: int | None = None,
        vendor_code: str | None = None,
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, vendor_status=vendor_status)
        self.vendor_code = vendor_code
        self.field_errors = field_errors or {}
        """Per-field messages from the vendor (``{"email": ["is invalid"]}``)."""


class UnsupportedOperation(ConnectorError):
    """The connector (or the vendor's API) cannot do this."""

    code = "not_supported"
    http_status = 501
