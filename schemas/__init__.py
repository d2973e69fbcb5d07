"""The common, Bindbee-shaped model every connector maps into and the API serves.

This package imports nothing else of ours: it is the bottom layer.
"""

from schemas.attachment import Attachment, AttachmentType
from schemas.base import NOT_CONTENT
from schemas.candidate import Candidate, Url, UrlType
from schemas.datetimes import UtcDateTime, to_utc
from schemas.page import ErrorBody, Page

__all__ = [
    "NOT_CONTENT",
    "Attachment",
    "AttachmentType",
    "Candidate",
    "ErrorBody",
    "Page",
    "Url",
    "UrlType",
    "UtcDateTime",
    "to_utc",
]
