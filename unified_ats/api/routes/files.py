"""``GET /files/{token}``: a staged file, for the vendor that fetches it by URL.

No API key: the vendor holds none of ours. The token is the credential: signed, naming one
file, valid for minutes (``unified_ats.writes.staging``); anything else is a plain 404.
"""

from urllib.parse import quote

from fastapi import APIRouter, Response

from unified_ats.api.deps import ServicesDep
from unified_ats.api.errors import NotFoundError
from unified_ats.api.responses import errors, file_response
from unified_ats.writes.staging import verify_file

router = APIRouter(tags=["files"])


@router.get(
    "/files/{token}",
    responses={
        200: file_response("The file, with its own content type."),
        **errors(404),
    },
    response_class=Response,
    summary="A file staged for a vendor (short-lived signed URL)",
)
async def files_get(token: str, services: ServicesDep) -> Response:
    file_id = verify_file(services.signing_key, token)
    staged = await services.writes.staged.get(file_id) if file_id else None
    if staged is None:
        raise NotFoundError("not found")
    return Response(
        staged.content,
        media_type=staged.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(staged.file_name)}",
            "Cache-Control": "no-store",
        },
    )
