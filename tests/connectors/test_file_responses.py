"""A vendor file route that answers a document (JSON, HTML) instead of the file is a 502.

Each connector downloads through ``FileDownload.from_response``; here the vendor's file route
answers 200 with a JSON error body, an HTML login page or a problem document, and the download
must fail with ``InvalidVendorResponse`` (502) naming what came back, never echoing the body.
"""

from collections.abc import Callable

import httpx
import pytest

from connectors.flatchr import FlatchrConnector
from connectors.sdk.base import FileDownload
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.errors import InvalidVendorResponse
from connectors.sdk.files import ensure_file_response
from connectors.sdk.http import RetryPolicy
from connectors.viasto import ViastoConnector
from connectors.welcomekit import WelcomeKitConnector
from tests.connectors.flatchr import conftest as flatchr
from tests.connectors.viasto import conftest as viasto
from tests.connectors.welcomekit import conftest as welcomekit
from tests.helpers import no_sleep
from tests.service import conftest as service_conftest

BODY_SECRET = "body-content-must-not-leak-91c2"
NOT_FILES = [
    ("application/json", b'{"statusCode": 200, "message": "' + BODY_SECRET.encode() + b'"}'),
    ("application/json; charset=utf-8", b'{"error": "' + BODY_SECRET.encode() + b'"}'),
    ("application/problem+json", b'{"title": "' + BODY_SECRET.encode() + b'"}'),
    ("text/html; charset=UTF-8", b"<html><body>Login " + BODY_SECRET.encode() + b"</body></html>"),
]


class AnswerInstead(httpx.AsyncBaseTransport):
    """The emulator, except that requests matching ``route`` get ``content_type``/``body``."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        route: Callable[[httpx.Request], bool],
        content_type: str,
        body: bytes,
    ) -> None:
        self.inner = inner
        self.route = route
        self.content_type = content_type
        self.body = body
        self.hits = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.route(request):
            self.hits += 1
            return httpx.Response(
                200, headers={"Content-Type": self.content_type}, content=self.body
            )
        return await self.inner.handle_async_request(request)


def wired(connector_class, settings, emulator, transport: AnswerInstead):  # type: ignore[no-untyped-def]
    return connector_class(
        settings,
        transport=transport,
        sleep=no_sleep,
        retry=RetryPolicy(max_attempts=2, base_delay=0.001),
    )


async def first_attachment(connector) -> str:  # type: ignore[no-untyped-def]
    async for page in connector.iter_candidates():
        for record in page.records:
            if record.attachments:
                return record.attachments[0].remote_id or ""
    raise AssertionError("no attachment in the emulator's data")


async def expect_502(connector, remote_id: str, content_type: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidVendorResponse) as caught:
        async with connector.download_attachment(remote_id) as download:
            async for _ in download.chunks:
                pass
    assert caught.value.http_status == 502
    kind = "an HTML page" if "html" in content_type else "a JSON document"
    assert f"answered {kind} instead of the file" in caught.value.message
    assert BODY_SECRET not in str(caught.value)


@pytest.mark.parametrize(("content_type", "body"), NOT_FILES)
@pytest.mark.parametrize("cv_mode", ["direct", "redirect"])
async def test_flatchr_cv_route_answering_a_document_is_a_502(
    content_type: str, body: bytes, cv_mode: str
) -> None:
    emulator = flatchr.make_emulator(size=10, cv_min_interval=0.0, cv_mode=cv_mode)
    # direct: files/expire itself answers JSON; redirect: the presigned storage does.
    target = "/files/expire" if cv_mode == "direct" else "/_storage/"
    transport = AnswerInstead(
        EmulatorTransport(emulator.app), lambda r: target in r.url.path, content_type, body
    )
    settings = flatchr.make_connector(emulator).settings
    async with wired(FlatchrConnector, settings, emulator, transport) as connector:
        await expect_502(connector, await first_attachment(connector), content_type)
    assert transport.hits == 1


@pytest.mark.parametrize(("content_type", "body"), NOT_FILES)
async def test_welcome_kit_file_answering_a_document_is_a_502(
    content_type: str, body: bytes
) -> None:
    emulator = welcomekit.make_emulator(size=8, jobs=1)
    transport = AnswerInstead(
        EmulatorTransport(emulator.app), lambda r: "/uploads/" in r.url.path, content_type, body
    )
    settings = welcomekit.make_connector(emulator).settings
    async with wired(WelcomeKitConnector, settings, emulator, transport) as connector:
        await expect_502(connector, await first_attachment(connector), content_type)
    assert transport.hits == 1


@pytest.mark.parametrize(("content_type", "body"), NOT_FILES)
async def test_viasto_cv_answering_a_document_is_a_502(content_type: str, body: bytes) -> None:
    emulator = viasto.make_emulator(projects=1, per_project=6)
    transport = AnswerInstead(
        EmulatorTransport(emulator.app), lambda r: "/cv/" in r.url.path, content_type, body
    )
    settings = viasto.make_connector(emulator).settings
    async with wired(ViastoConnector, settings, emulator, transport) as connector:
        await expect_502(connector, await first_attachment(connector), content_type)
    assert transport.hits == 1


async def test_real_files_still_download_for_every_connector() -> None:
    """The check leaves real files alone (the emulators serve PDFs, Word files, images)."""
    for module, connector_class in (
        (flatchr, FlatchrConnector),
        (welcomekit, WelcomeKitConnector),
        (viasto, ViastoConnector),
    ):
        kwargs = {"cv_min_interval": 0.0} if module is flatchr else {}
        emulator = module.make_emulator(**kwargs)  # type: ignore[attr-defined]
        async with module.make_connector(emulator) as connector:  # type: ignore[attr-defined]
            assert connector_class is type(connector)
            async with connector.download_attachment(await first_attachment(connector)) as download:
                body = b"".join([chunk async for chunk in download.chunks])
            assert body and "json" not in download.content_type


def response(content_type: str | None) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return httpx.Response(200, headers=headers, content=b"{}")


@pytest.mark.parametrize(
    ("answered", "expected", "name", "refused"),
    [
        ("application/json", None, "cv", True),
        ("application/json", "application/pdf", "cv.pdf", True),
        ("text/html", None, "Lebenslauf", True),
        ("application/vnd.api+json", None, "cv", True),
        ("application/problem+json", "application/msword", "cv.doc", True),
        ("text/html; charset=utf-8", "application/json", "cv.json", True),  # wrong document
        # The attachment is itself a JSON or HTML file: that is what the vendor should send.
        ("application/json", "application/json", "export", False),
        ("application/json", None, "answers.json", False),
        ("text/html", None, "portfolio.html", False),
        ("text/html; charset=utf-8", "text/html", "portfolio", False),
        # Files, or nothing said: the vendor's bytes are served.
        ("application/pdf", None, "cv", False),
        ("application/octet-stream", "application/pdf", "cv.pdf", False),
        (None, None, "cv", False),
        ("text/plain", None, "cv.txt", False),
    ],
)
def test_ensure_file_response(
    answered: str | None, expected: str | None, name: str, refused: bool
) -> None:
    if refused:
        with pytest.raises(InvalidVendorResponse, match="instead of the file"):
            ensure_file_response(response(answered), expected, name=name)
        with pytest.raises(InvalidVendorResponse):
            FileDownload.from_response(response(answered), name=name, content_type=expected)
    else:
        ensure_file_response(response(answered), expected, name=name)
        FileDownload.from_response(response(answered), name=name, content_type=expected)


# --- through the API: the download route answers 502 with a detail, not a 200 of the JSON ----

database_url = service_conftest.database_url  # the store on SQLite and on PostgreSQL
stack = service_conftest.stack


async def test_api_download_of_a_file_route_answering_json_is_a_502(
    stack: service_conftest.Stack,
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    headers = stack.headers(token)
    items = (
        await stack.client.get("/api/ats/v1/candidates", params={"page_size": 200}, headers=headers)
    ).json()["items"]
    attachment_id = next(c for c in items if c["attachments"])["attachments"][0]
    url = f"/api/ats/v1/attachments/{attachment_id}/download"
    assert (await stack.client.get(url, headers=headers)).status_code == 200  # a real file
    # Flatchr's file route now answers 200 with a JSON body instead of the file.
    stack.flatchr.faults.malformed_json = True
    stack.flatchr.faults.only_paths = (f"/company/{service_conftest.FLATCHR_COMPANY}/files/expire",)
    response = await stack.client.get(url, headers=headers)
    assert response.status_code == 502, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "the vendor answered a JSON document instead of the file"}
