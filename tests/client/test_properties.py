"""Properties of the file-name sanitiser and of error-body parsing, over generated inputs."""

import json
import os
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_ats.api.streaming import content_disposition
from unified_ats.client import ApiError, InvalidRequest, RateLimited, VendorError
from unified_ats.client._files import MAX_NAME_BYTES, file_name_from, safe_file_name
from unified_ats.client.errors import REDACTED, error_from_response, parse_retry_after

API_KEY = "uats_sk_" + "k" * 43
TOKEN = "uats_ct_" + "t" * 43
SECRETS = (API_KEY, TOKEN)
FALLBACK = str(uuid.UUID(int=7))
names = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
hostile = st.lists(
    st.sampled_from(["..", ".", "/", "\\", "\x00", "\n", "\u202e", " ", "CON", "a", "é", ":"]),
    max_size=12,
).map("".join)


@given(st.one_of(names, hostile, st.none()))
@settings(max_examples=400)
def test_a_safe_name_stays_in_its_directory(name: str | None) -> None:
    safe = safe_file_name(name, FALLBACK)
    assert safe and safe not in (".", "..")
    assert not set(safe) & {"/", "\\", "\x00", "<", ">", ":", '"', "|", "?", "*"}
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in safe)
    assert safe == safe.strip(" .")
    assert len(safe.encode("utf-8")) <= MAX_NAME_BYTES
    directory = Path("/srv/downloads")
    assert os.path.normpath(directory / safe).startswith(f"{directory}{os.sep}")


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,40}\.(pdf|docx|png)", fullmatch=True))
def test_an_ordinary_name_is_kept(name: str) -> None:
    assert safe_file_name(name, FALLBACK) == name


@given(names)
@settings(max_examples=300)
def test_the_servers_content_disposition_gives_back_its_name(name: str) -> None:
    assert file_name_from(content_disposition(name)) == name
    assert file_name_from(content_disposition(name, inline=True)) == name


@given(st.text(max_size=200))
def test_any_content_disposition_parses_without_error(header: str) -> None:
    parsed = file_name_from(header)
    assert parsed is None or isinstance(parsed, str)


EXPECTED = {400: InvalidRequest, 422: InvalidRequest, 429: RateLimited, 502: VendorError}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
secretive_text = st.lists(st.sampled_from([*SECRETS, "x", " ", "détail", "{"]), max_size=6).map(
    "".join
)
details = st.one_of(
    secretive_text,
    st.lists(
        st.fixed_dictionaries(
            {"loc": st.lists(secretive_text, max_size=3), "msg": secretive_text, "type": st.text()}
        ),
        max_size=3,
    ),
    st.lists(json_values, max_size=3),
)
bodies = st.one_of(
    details.map(lambda d: json.dumps({"detail": d}).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=600),
    secretive_text.map(str.encode),
)


@given(st.integers(300, 599), bodies, st.sampled_from(["1", "x", "", "1e999", "-4"]))
@settings(max_examples=400)
def test_any_error_body_gives_a_typed_secret_free_error(
    status: int, body: bytes, retry_after: str
) -> None:
    request = httpx.Request("GET", "http://x/api/ats/v1/jobs?secret=" + TOKEN)
    response = httpx.Response(
        status, content=body, headers={"Retry-After": retry_after}, request=request
    )
    error = error_from_response(response, SECRETS)
    assert isinstance(error, EXPECTED.get(status, ApiError))
    assert error.status_code == status
    assert isinstance(error.detail, str | list)
    text = f"{error} {error!r} {error.detail}"
    assert not any(secret in text for secret in SECRETS)
    try:
        sent: Any = json.loads(body)
    except ValueError:
        sent = None
    if isinstance(sent, dict) and isinstance(sent.get("detail"), str | list):
        readable = json.dumps(sent["detail"])
        if not any(secret in readable for secret in SECRETS):
            assert error.detail == sent["detail"]
        else:
            assert REDACTED in json.dumps(error.detail)
    if isinstance(error, RateLimited):
        assert error.retry_after == parse_retry_after(retry_after)
        assert error.retry_after is None or error.retry_after >= 0


@given(st.text(max_size=40))
def test_retry_after_is_never_negative_nor_infinite(value: str) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or 0 <= seconds < float("inf")
