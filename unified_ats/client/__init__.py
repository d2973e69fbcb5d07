"""A typed Python client for the unified-ats REST API (httpx + ``schemas`` only).

    from unified_ats.client import Client

    with Client(base_url, api_key=API_KEY, connector_token=TOKEN) as client:
        for candidate in client.candidates.list(modified_after="2024-01-01T00:00:00Z"):
            print(candidate.first_name, candidate.email_addresses)

``AsyncClient`` has the same surface. See docs/client.md.
"""

from schemas import Application, Attachment, Candidate, Job, JobInterviewStage, Page
from schemas.writes import AttachmentUpload, CandidateCreateData, PassthroughResponse, WriteMeta
from unified_ats.client._client import AsyncClient, Client
from unified_ats.client._files import safe_file_name
from unified_ats.client._runners import AsyncFile, AsyncListing, SyncFile, SyncListing
from unified_ats.client._uploads import attachment_upload
from unified_ats.client.errors import (
    ApiError,
    ClientError,
    Conflict,
    Gone,
    InvalidRequest,
    NotFound,
    NotSupported,
    RateLimited,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    VendorError,
)
from unified_ats.client.models import (
    Connection,
    ConnectionCreated,
    Connector,
    Delivery,
    DeliveryAttempt,
    EventType,
    LinkExchanged,
    LinkSettings,
    LinkToken,
    ModelCounts,
    QuarantinedRecord,
    ResyncAccepted,
    SyncStatus,
    TokenRotated,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookSecret,
    WebhookSecretRotated,
)

__all__ = [
    "ApiError",
    "Application",
    "AsyncClient",
    "AsyncFile",
    "AsyncListing",
    "Attachment",
    "AttachmentUpload",
    "Candidate",
    "CandidateCreateData",
    "Client",
    "ClientError",
    "Conflict",
    "Connection",
    "ConnectionCreated",
    "Connector",
    "Delivery",
    "DeliveryAttempt",
    "EventType",
    "Gone",
    "InvalidRequest",
    "Job",
    "JobInterviewStage",
    "LinkExchanged",
    "LinkSettings",
    "LinkToken",
    "ModelCounts",
    "NotFound",
    "NotSupported",
    "Page",
    "PassthroughResponse",
    "QuarantinedRecord",
    "RateLimited",
    "ResyncAccepted",
    "SyncFile",
    "SyncListing",
    "SyncStatus",
    "TokenRotated",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "VendorError",
    "WebhookEndpoint",
    "WebhookEndpointCreated",
    "WebhookSecret",
    "WebhookSecretRotated",
    "WriteMeta",
    "attachment_upload",
    "safe_file_name",
]
