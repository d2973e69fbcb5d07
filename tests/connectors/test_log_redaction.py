"""No credential in any log line: httpx, httpcore (every child logger) and any record."""

import logging
import re
import string
import sys

import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from connectors.sdk.logs import LOG_REDACTION, LogRedaction, protect_http_logs, secret_shapes
from connectors.sdk.secrets import Redactor
from tests.connectors.flatchr.conftest import make_connector as flatchr_connector
from tests.connectors.flatchr.conftest import make_emulator as flatchr_emulator
from tests.connectors.viasto.conftest import TOKEN
from tests.connectors.viasto.conftest import make_connector as viasto_connector
from tests.connectors.viasto.conftest import make_emulator as viasto_emulator


async def drain(connector, remote_id: str) -> None:
    async with connector.download_attachment(remote_id) as download:
        async for _ in download.chunks:
            pass


async def test_presigned_redirects_leave_no_signature_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    emulator = flatchr_emulator(cv_mode="redirect")
    async with flatchr_connector(emulator) as connector:
        records = [r async for page in connector.iter_candidates() for r in page.records]
        record = next(r for r in records if r.attachments)
        await drain(connector, record.attachments[0].remote_id or "")
    assert "_storage" in caplog.text  # the request was logged...
    assert "X-Amz-Signature" not in caplog.text  # ...without its signature


async def test_viasto_file_tokens_are_masked_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    emulator = viasto_emulator()
    async with viasto_connector(emulator) as connector:
        records = [r async for page in connector.iter_candidates() for r in page.records]
        record = next(r for r in records if r.attachments)
        payload = emulator.render(
            4,
            emulator.companies[4].candidates[10][int(record.candidate.remote_id.split("/")[1])],
            TOKEN,
        )  # type: ignore[union-attr]
        token = payload["cv"].rstrip("/").rsplit("/", 1)[-1]
        await drain(connector, record.attachments[0].remote_id or "")
    assert "/cv/***/" in caplog.text
    assert token not in caplog.text
    assert TOKEN not in caplog.text


# --- the one redaction of a log record (connectors.sdk.logs.LogRedaction) -------------------


SIGNATURE = "5f2b0c1d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c"
PRESIGNED = (
    f"/_storage/cv/alice.pdf?X-Amz-Expires=86400&X-Amz-Date=20260101T000000Z"
    f"&X-Amz-Signature={SIGNATURE}"
)


def test_query_strings_leave_every_url_str_or_bytes() -> None:
    redaction = LogRedaction()
    texts = [
        f"HTTP Request: GET https://s3.example{PRESIGNED} " + '"HTTP/1.1 200 OK"',
        # httpcore's DEBUG line for a redirect: headers as a list of bytes tuples
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 302, b'Found', "
        f"[(b'location', b'{PRESIGNED}'), (b'content-length', b'0')])",
        f"redirect to {PRESIGNED}",
        f'{{"url": "http://user:pw@files.example{PRESIGNED}"}}',
    ]
    for text in texts:
        clean = redaction.redact(text)
        assert SIGNATURE not in clean and "X-Amz" not in clean, clean
        assert "/_storage/cv/alice.pdf" in clean  # the path stays: the line is still useful
    assert "user:pw" not in redaction.redact(f"https://user:pw@files.example{PRESIGNED}")


def test_authorization_bearer_and_token_values_are_masked() -> None:
    redaction = LogRedaction()
    token = "a9e75326e273e8ef865522ac326b457ef1864e9e"
    texts = [
        f"Authorization: Token {token}",
        f"{{'authorization': 'Bearer {token}', 'accept': '*/*'}}",
        f"[(b'Authorization', b'Token {token}'), (b'Host', b'x')]",
        f'{{"Authorization": "Basic {token}"}}',
        f"sent with bearer {token}",
        f"header Token {token} refused",
        f"proxy-authorization={token}",
    ]
    for text in texts:
        assert token not in redaction.redact(text), text
    assert redaction.redact(f"Authorization: Token {token}") == "Authorization: Token ***"


def test_registered_vendor_secrets_are_masked_in_any_shape() -> None:
    redaction = LogRedaction()
    redaction.add_secrets(["pass word/+&=42", "flt_key_0123456789"])
    assert "flt_key_0123456789" not in redaction.redact("key flt_key_0123456789 used")
    for shape in ("pass word/+&=42", "pass%20word%2F%2B%26%3D42", "pass+word%2F%2B%26%3D42"):
        assert "***" in redaction.redact(f"login with {shape}!")
        assert shape not in redaction.redact(f"login with {shape}!")


def test_connector_path_patterns_are_masked() -> None:
    redaction = LogRedaction()
    redaction.add_patterns([re.compile(r"/(?:cv|photo)/(?P<secret>[^/?#]+)/")])
    clean = redaction.redact("GET https://acme.example/api/v3/companies/4/cv/Zm9vYmFy0123/")
    assert clean == "GET https://acme.example/api/v3/companies/4/cv/***/"


def test_a_redactor_shares_its_secrets_with_the_logs_including_later_ones() -> None:
    redaction = LogRedaction()
    redactor = Redactor(["settings-secret-1"])
    redaction.follow(redactor)
    redactor.add("session-token-obtained-later")
    clean = redaction.redact("settings-secret-1 then session-token-obtained-later")
    assert clean == "*** then ***"


def test_text_without_anything_to_redact_is_returned_as_is() -> None:
    redaction = LogRedaction()
    redaction.add_secrets(["flt_key_0123456789"])
    text = "sync of 5f0c finished: 500 seen, 3 changed in 2.1 s"
    assert redaction.redact(text) is text


def _record(name: str, msg: str, args: tuple | dict = (), exc_info=None) -> logging.LogRecord:  # type: ignore[no-untyped-def]
    return logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args or None, exc_info)


def test_record_redaction_formats_once_and_cleans_msg_args_and_exc_text() -> None:
    redaction = LogRedaction()
    redaction.add_secrets(["vendor-secret-xyz"])
    # A secret assembled from two arguments: only the whole message shows it.
    record = _record("app", "calling %s%s", ("https://h/x?sig=", "abc"))
    redaction.redact_record(record)
    assert record.getMessage() == "calling https://h/x" and "sig" not in record.getMessage()
    # A secret inside one argument: arguments keep their shape (uvicorn's access formatter
    # unpacks exactly five of them).
    access = _record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5555", "GET", "/files/x.pdf?X-Amz-Signature=abc", "1.1", 200),
    )
    redaction.redact_record(access)
    assert isinstance(access.args, tuple) and len(access.args) == 5
    assert "abc" not in access.getMessage() and access.args[4] == 200
    try:
        raise RuntimeError("failed with vendor-secret-xyz")
    except RuntimeError:
        failed = _record("app", "boom", exc_info=sys.exc_info())
    redaction.redact_record(failed)
    formatted = logging.Formatter().format(failed)
    assert "vendor-secret-xyz" not in formatted and "RuntimeError" in formatted
    # Untouched when there is nothing to hide: the template and arguments stay as given.
    plain = _record("app", "%d records", (5,))
    redaction.redact_record(plain)
    assert plain.msg == "%d records" and plain.args == (5,)


def test_unformattable_records_still_leave_no_secret() -> None:
    redaction = LogRedaction()
    redaction.add_secrets(["vendor-secret-xyz"])
    record = _record("app", "%s and %s", ("vendor-secret-xyz",))  # one argument missing
    redaction.redact_record(record)
    assert "vendor-secret-xyz" not in record.getMessage()


def test_httpcore_child_logger_debug_lines_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    protect_http_logs()
    caplog.set_level(logging.DEBUG)
    # Exactly how httpcore logs a redirect's headers (a pre-formatted message, no args).
    logging.getLogger("httpcore.http11").debug(
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 302, b'Found', "
        f"[(b'location', b'{PRESIGNED}')])"
    )
    logging.getLogger("httpcore.connection").debug(
        "connect_tcp.started host='s3.example' port=443 local_address=None "
        f"timeout=5.0 url=https://s3.example{PRESIGNED}"
    )
    assert "receive_response_headers" in caplog.text
    assert SIGNATURE not in caplog.text and "X-Amz-Signature" not in caplog.text


def test_secrets_registered_by_a_connector_reach_the_http_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from connectors.flatchr import FlatchrConnector, FlatchrSettings

    key = "flt_registered_by_init_7c6b5a"
    FlatchrConnector(FlatchrSettings(api_key=key, company_id="C1", base_url="https://x.test"))
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpcore.http11").debug(f"echo {key}")
    assert key not in caplog.text and "echo ***" in caplog.text
    assert LOG_REDACTION.redact(key) == "***"


# Property tests: secrets drawn at random, embedded in random text.
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="?#\r\n"), max_size=60)
_SECRET = st.text(alphabet=st.characters(codec="utf-8"), min_size=4, max_size=40)


@hsettings(max_examples=300, deadline=None)
@given(secrets=st.lists(_SECRET, min_size=1, max_size=4), parts=st.lists(_TEXT, max_size=6))
def test_random_secrets_in_random_text_are_always_removed(
    secrets: list[str], parts: list[str]
) -> None:
    redaction = LogRedaction()
    redaction.add_secrets(secrets)
    text = "".join(p + s for p, s in zip(parts, secrets * 3, strict=False)) + "".join(secrets)
    clean = redaction.redact(text)
    for secret in secrets:
        assert secret not in clean


_PLAIN = st.text(
    alphabet=string.ascii_letters + string.digits + " .,;:-_/=()[]{}'\"<>@!%+", max_size=200
)
_TRIGGERS = re.compile(r"(?i)authoriz|bearer|token|://|uats_")


@hsettings(max_examples=300, deadline=None)
@given(text=_PLAIN, secrets=st.lists(_SECRET, max_size=4))
def test_text_without_secrets_is_unchanged(text: str, secrets: list[str]) -> None:
    assume(not _TRIGGERS.search(text))
    assume(not any(shape in text for s in secrets for shape in secret_shapes(s)))
    redaction = LogRedaction()
    redaction.add_secrets(secrets)
    assert redaction.redact(text) == text
