"""The common, Bindbee-shaped model every connector maps into and the API serves.

This package imports nothing else of ours: it is the bottom layer.
"""

from schemas.application import Application
from schemas.attachment import Attachment, AttachmentType
from schemas.base import NOT_CONTENT
from schemas.candidate import Candidate, Url, UrlType
from schemas.datetimes import UtcDateTime, to_utc
from schemas.job import Job, JobInterviewStage, JobStatus
from schemas.page import ErrorBody, Page

# Candidate and Application embed each other when expanded: resolve the forward reference.
Candidate.model_rebuild(_types_namespace={"Application": Application})
Application.model_rebuild()

__all__ = [
    "NOT_CONTENT",
    "Application",
    "Attachment",
    "AttachmentType",
    "Candidate",
    "ErrorBody",
    "Job",
    "JobInterviewStage",
    "JobStatus",
    "Page",
    "Url",
    "UrlType",
    "UtcDateTime",
    "to_utc",
]
