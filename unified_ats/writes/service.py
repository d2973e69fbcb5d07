"""Writes to the vendor: validated first, sent once, stored as the vendor answered.

A write is never retried blindly. When the vendor fails without saying whether it wrote (a
timeout, a 5xx, an unreadable answer), the record is looked up before anything else: found,
the write succeeded; not found, the caller gets a 502/504 whose idempotency key still knows
the outcome is unknown, so its retry looks the record up first too.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from connectors import (
    CandidateDraft,
    CandidateRecord,
    Capability,
    Connector,
    ConnectorError,
    FileRules,
    FileUpload,
    InvalidVendorResponse,
    UnsupportedOperation,
    UrlDraft,
    VendorRejectedRequest,
    VendorTimeout,
    VendorUnavailable,
)
from schemas import Application, Attachment, Candidate, Job, JobInterviewStage
from schemas.writes import AttachmentUpload, CandidateCreate
from unified_ats.connector_pool import ConnectorPool
from unified_ats.reads import RecordNotFound
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.records import RecordStore
from unified_ats.store.staged_files import StagedFiles
from unified_ats.writes.staging import STAGED_FOR, sign_file
from unified_ats.writes.validation import (
    Error,
    WriteRejected,
    check_candidate_fields,
    check_uploads,
    decode_upload,
    error,
)

logger = logging.getLogger("unified_ats.writes")
MAX_VENDOR_MESSAGE = 300


class OutcomeUnknown(ConnectorError):
    """The vendor failed without saying whether it wrote, and the record was not found."""

    code = "write_outcome_unknown"
    http_status = 502

    def __init__(self, cause: ConnectorError) -> None:
        super().__init__(
            f"{cause.message}; the write may or may not have happened at the vendor: retry "
            "with the same Idempotency-Key, which looks the record up before writing again",
            vendor_status=cause.vendor_status,
        )

    @classmethod
    def of(cls, cause: ConnectorError) -> "OutcomeUnknown":
        return (OutcomeTimedOut if isinstance(cause, VendorTimeout) else cls)(cause)


class OutcomeTimedOut(OutcomeUnknown):
    http_status = 504


def outcome_unknown(exc: ConnectorError) -> bool:
    """Whether the vendor may have written despite the error (no 4xx said it did not)."""
    if isinstance(exc, VendorTimeout | VendorUnavailable | InvalidVendorResponse):
        return True
    return exc.vendor_status is not None and exc.vendor_status >= 500


@dataclass(frozen=True)
class Written:
    """A candidate as stored after a write, with its applications."""

    candidate: Candidate
    applications: list[Application]

    def expanded(self) -> Candidate:
        return self.candidate.model_copy(update={"applications": list(self.applications)})


FileUrl = Callable[[str], str]
"""Turns a staged-file token into the absolute URL the vendor fetches."""


class Writes:
    def __init__(
        self,
        records: RecordStore,
        pool: ConnectorPool,
        staged: StagedFiles,
        signing_key: bytes,
    ) -> None:
        self.records = records
        self.pool = pool
        self.staged = staged
        self.signing_key = signing_key

    # --- operations ----------------------------------------------------------------------------

    async def create_candidate(
        self,
        connection: ConnectionInfo,
        body: CandidateCreate,
        *,
        file_url: FileUrl,
        look_up_first: bool = False,
    ) -> Written:
        connector = await self._capable(
            connection, Capability.CREATE_CANDIDATE, "create candidates"
        )
        rules = connector.write_rules
        vendor = connector.display_name
        data = body.data
        errors = check_candidate_fields(data, rules, vendor)
        files, file_errors = check_uploads(data.attachments or [], rules.create_files, vendor)
        errors += file_errors
        job, stage, relation_errors = await self._job_and_stage(
            connection, data.job_id, data.job_interview_stage_id, ["data"]
        )
        errors += relation_errors
        if errors:
            raise WriteRejected(errors)
        staged = [await self._staged(connection, f, file_url, rules.create_files) for f in files]
        draft = CandidateDraft(
            first_name=data.first_name,
            last_name=data.last_name,
            company=data.company,
            title=data.title,
            email_addresses=tuple(data.email_addresses or ()),
            phone_numbers=tuple(data.phone_numbers or ()),
            urls=tuple(UrlDraft(u.value, str(u.type) if u.type else None) for u in data.urls or ()),
            tags=tuple(data.tags or ()),
            job_remote_id=job.remote_id if job else None,
            stage_remote_id=stage.remote_id if stage else None,
            attachments=tuple(staged),
            remote_user_id=body.remote_user_id,
        )
        record = await self._write_once(
            lambda: connector.create_candidate(draft),
            lambda: connector.find_candidate(draft),
            look_up_first=look_up_first,
        )
        return await self._store(connection, record)

    async def create_application(
        self,
        connection: ConnectionInfo,
        candidate_id: uuid.UUID,
        job_id: uuid.UUID,
        stage_id: uuid.UUID | None,
    ) -> Application:
        connector = await self._capable(
            connection, Capability.CREATE_APPLICATION, "create applications"
        )
        candidate = await self._stored(connection, "candidates", candidate_id, "candidate")
        job, stage, errors = await self._job_and_stage(connection, job_id, stage_id, ["data"])
        if errors:
            raise WriteRejected(errors)
        assert job is not None
        record = await self._write_once(
            lambda: connector.create_application(
                candidate.remote_id or "", job.remote_id or "", stage.remote_id if stage else None
            ),
            None,
        )
        written = await self._store(connection, record)
        return written.applications[0]

    async def change_stage(
        self, connection: ConnectionInfo, application_id: uuid.UUID, stage_id: uuid.UUID
    ) -> Application:
        connector = await self._capable(connection, Capability.CHANGE_STAGE, "move applications")
        application = await self._stored(connection, "applications", application_id, "application")
        stage = await self._stored_or_none(connection, "job_interview_stages", stage_id)
        if stage is None or stage.remote_was_deleted:
            raise WriteRejected(
                [
                    error(
                        ["job_interview_stage_id"],
                        "unknown_stage",
                        "no such stage on this connection",
                    )
                ]
            )
        if application.job is not None and _id(stage.job) != _id(application.job):
            raise WriteRejected(
                [
                    error(
                        ["job_interview_stage_id"],
                        "stage_of_another_job",
                        "the stage belongs to another job than the application's",
                    )
                ]
            )
        record = await self._write_once(
            lambda: connector.change_stage(application.remote_id or "", stage.remote_id or ""),
            None,
        )
        return await self._application_of(connection, record, application_id)

    async def reject(self, connection: ConnectionInfo, application_id: uuid.UUID) -> Application:
        connector = await self._capable(
            connection, Capability.REJECT_APPLICATION, "reject applications"
        )
        application = await self._stored(connection, "applications", application_id, "application")
        record = await self._write_once(
            lambda: connector.reject_application(application.remote_id or ""), None
        )
        return await self._application_of(connection, record, application_id)

    async def add_attachment(
        self,
        connection: ConnectionInfo,
        candidate_id: uuid.UUID,
        upload: AttachmentUpload,
        *,
        file_url: FileUrl,
    ) -> Attachment:
        connector = await self.pool.for_connection(connection)
        rules = connector.write_rules
        if (
            Capability.ADD_ATTACHMENT not in connector.capabilities
            or rules.attachment_files is None
        ):
            raise UnsupportedOperation(
                rules.attachment_unsupported_reason
                or f"{connector.display_name} cannot attach files to a candidate"
            )
        candidate = await self._stored(connection, "candidates", candidate_id, "candidate")
        file, errors = decode_upload(
            upload, rules.attachment_files, connector.display_name, ["data"]
        )
        if errors or file is None:
            raise WriteRejected(errors)
        staged = await self._staged(connection, file, file_url, rules.attachment_files)
        attachment: Attachment = await self._write_once(
            lambda: connector.add_attachment(candidate.remote_id or "", staged), None
        )
        # The candidate as the vendor now holds it (its attachments included) goes to the store.
        # The file is attached whatever happens next: a failed re-read must not turn into an
        # error a client would retry (attaching twice); the next sync stores it instead.
        try:
            record = await connector.get_candidate(candidate.remote_id or "", known=candidate)
        except ConnectorError as exc:
            logger.warning("attached, but the candidate could not be re-read (%s)", exc.code)
            return attachment
        await self.records.upsert(connection.id, [record], now=_now(), touch_unchanged=True)
        stored = await self.records.attachment(connection.id, attachment.id)
        return stored.model if stored is not None else attachment

    # --- parts ---------------------------------------------------------------------------------

    async def _capable(
        self, connection: ConnectionInfo, capability: Capability, what: str
    ) -> Connector[Any]:
        connector = await self.pool.for_connection(connection)
        if capability not in connector.capabilities:
            note = connector.write_rules.notes.get(capability.value)
            raise UnsupportedOperation(note or f"{connector.display_name} cannot {what}")
        return connector

    async def _write_once(
        self,
        write: Callable[[], Awaitable[Any]],
        find: Callable[[], Awaitable[Any]] | None,
        *,
        look_up_first: bool = False,
    ) -> Any:
        """Send the write once. A vendor 400/422 becomes our 422 with its field messages; an
        unknown outcome is looked up (``find``) before it is reported."""
        if look_up_first and find is not None:
            found = await find()
            if found is not None:
                logger.info("write already done at the vendor: found on retry, not re-sent")
                return found
        try:
            return await write()
        except VendorRejectedRequest as exc:
            raise WriteRejected(vendor_errors(exc)) from None
        except ConnectorError as exc:
            if not outcome_unknown(exc):
                raise
            if find is not None:
                try:
                    found = await find()
                except ConnectorError:
                    found = None
                if found is not None:
                    logger.info("vendor failed after writing (%s): found the record", exc.code)
                    return found
            raise OutcomeUnknown.of(exc) from None

    async def _staged(
        self,
        connection: ConnectionInfo,
        file: FileUpload,
        file_url: FileUrl,
        rules: FileRules | None,
    ) -> FileUpload:
        """For a vendor that fetches files by URL, bytes are served at a signed URL of ours."""
        if file.content is None or rules is None or not rules.by_url:
            return file
        expires_at = _now() + STAGED_FOR
        file_id = await self.staged.put(
            connection.id,
            file_name=file.file_name,
            content_type=file.content_type,
            content=file.content,
            expires_at=expires_at,
        )
        return replace(file, url=file_url(sign_file(self.signing_key, file_id, expires_at)))

    async def _job_and_stage(
        self,
        connection: ConnectionInfo,
        job_id: uuid.UUID | None,
        stage_id: uuid.UUID | None,
        loc: list[str | int],
    ) -> tuple[Job | None, JobInterviewStage | None, list[Error]]:
        errors: list[Error] = []
        job = await self._stored_or_none(connection, "jobs", job_id) if job_id else None
        if job_id and (job is None or job.remote_was_deleted):
            errors.append(error([*loc, "job_id"], "unknown_job", "no such job on this connection"))
            job = None
        stage = (
            await self._stored_or_none(connection, "job_interview_stages", stage_id)
            if stage_id
            else None
        )
        if stage_id and (stage is None or stage.remote_was_deleted):
            errors.append(
                error(
                    [*loc, "job_interview_stage_id"],
                    "unknown_stage",
                    "no such stage on this connection",
                )
            )
            stage = None
        elif stage is not None and job is not None and _id(stage.job) != job.id:
            errors.append(
                error(
                    [*loc, "job_interview_stage_id"],
                    "stage_of_another_job",
                    "the stage is not one of the job's stages",
                )
            )
        if stage is not None and job_id is None:
            errors.append(error([*loc, "job_id"], "missing", "a stage needs the job it belongs to"))
        return job, stage, errors

    async def _stored_or_none(
        self, connection: ConnectionInfo, model: str, record_id: uuid.UUID | None
    ) -> Any:
        if record_id is None:
            return None
        if model == "candidates":
            found = await self.records.candidate(connection.id, record_id)
        else:
            found = await self.records.record(model, connection.id, record_id)
        return found.model if found is not None else None

    async def _stored(
        self, connection: ConnectionInfo, model: str, record_id: uuid.UUID, what: str
    ) -> Any:
        found = await self._stored_or_none(connection, model, record_id)
        if found is None or found.remote_was_deleted:
            raise RecordNotFound(f"{what} not found")
        return found

    async def _store(self, connection: ConnectionInfo, record: CandidateRecord) -> Written:
        """Store what the vendor answered, and read it back as it will be served."""
        await self.records.upsert(connection.id, [record], now=_now(), touch_unchanged=True)
        stored = await self.records.candidate(connection.id, record.candidate.id)
        candidate = stored.model if stored is not None else record.candidate
        applications = []
        for application in record.applications:
            found = await self.records.record("applications", connection.id, application.id)
            applications.append(found.model if found is not None else application)
        return Written(candidate, applications)

    async def _application_of(
        self, connection: ConnectionInfo, record: CandidateRecord, application_id: uuid.UUID
    ) -> Application:
        written = await self._store(connection, record)
        for application in written.applications:
            if application.id == application_id:
                return application
        raise InvalidVendorResponse("the vendor's answer does not hold the application")


def vendor_errors(exc: VendorRejectedRequest) -> list[Error]:
    """The vendor's field messages (already redacted by the SDK), bounded in size. A refusal
    the connector made before calling (no vendor status) names our own fields, under data."""
    where = "vendor" if exc.vendor_status is not None else "data"
    if not exc.field_errors:
        return [error([where], "vendor_rejected", exc.message[:MAX_VENDOR_MESSAGE])]
    return [
        error([where, field[:100]], "vendor_rejected", message[:MAX_VENDOR_MESSAGE])
        for field, messages in exc.field_errors.items()
        for message in messages[:5]
    ]


def _id(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    return getattr(value, "id", None)


def _now() -> datetime:
    return datetime.now(UTC)
