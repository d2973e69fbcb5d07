"""Streaming a vendor file through our own route (attachments, avatars)."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from connectors import FileDownload


def content_disposition(file_name: str, *, inline: bool = False) -> str:
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


async def stream_file(
    opening: AbstractAsyncContextManager[FileDownload],
    *,
    file_name: str | None,
    inline: bool = False,
) -> StreamingResponse:
    """Open the vendor download first (so its failure is a mapped status), then stream it."""
    stack = AsyncExitStack()
    try:
        download = await stack.enter_async_context(opening)
    except BaseException:
        await stack.aclose()
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in download.chunks:
                yield chunk
        finally:
            await stack.aclose()

    name = file_name or download.file_name or "file"
    headers = {
        "Content-Disposition": content_disposition(name, inline=inline),
        "Cache-Control": "private",
    }
    if download.size is not None:
        headers["Content-Length"] = str(download.size)
    return StreamingResponse(body(), media_type=download.content_type, headers=headers)
