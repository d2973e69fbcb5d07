"""Connector SDK and the built-in connectors (Flatchr, ...).

from connectors import default_registry
Flatchr = default_registry().get("flatchr")
"""

from connectors.sdk.base import (
    CandidatePage,
    CandidateRecord,
    Capability,
    Connector,
    ConnectorSettings,
    FileDownload,
    IdScope,
    JobPage,
    JobRecord,
    MappingContext,
    Quarantined,
)
from connectors.sdk.errors import (
    AuthFailed,
    ConnectorError,
    InvalidVendorResponse,
    NotFound,
    RateLimited,
    RouteNotFound,
    UnsupportedOperation,
    VendorRejectedRequest,
    VendorTimeout,
    VendorUnavailable,
)
from connectors.sdk.http import RetryPolicy
from connectors.sdk.ratelimit import InMemoryRateLimiter, RateLimiter, RateRule
from connectors.sdk.registry import ENTRY_POINT_GROUP, ConnectorRegistry, default_registry
from connectors.sdk.writes import (
    CandidateDraft,
    FileRules,
    FileUpload,
    StageMoveRefused,
    UrlDraft,
    WriteRules,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "AuthFailed",
    "CandidateDraft",
    "CandidatePage",
    "CandidateRecord",
    "Capability",
    "Connector",
    "ConnectorError",
    "ConnectorRegistry",
    "ConnectorSettings",
    "FileDownload",
    "FileRules",
    "FileUpload",
    "IdScope",
    "InMemoryRateLimiter",
    "InvalidVendorResponse",
    "JobPage",
    "JobRecord",
    "MappingContext",
    "NotFound",
    "Quarantined",
    "RateLimited",
    "RateLimiter",
    "RateRule",
    "RetryPolicy",
    "RouteNotFound",
    "StageMoveRefused",
    "UnsupportedOperation",
    "UrlDraft",
    "VendorRejectedRequest",
    "VendorTimeout",
    "VendorUnavailable",
    "WriteRules",
    "default_registry",
]
