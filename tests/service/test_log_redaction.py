"""Our prefixed secrets are masked in uvicorn's access log and our own log lines."""

import logging

import pytest

from unified_ats.api.app import create_app
from unified_ats.settings import Settings


def test_webhook_secret_in_an_access_log_line_is_masked(
    caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    create_app(Settings(data_dir=tmp_path))  # installs the filters
    secret = "uats_wh_Q2hhbmdlIG1lIHBsZWFzZSwgSSBhbSBhIHNlY3JldA"
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    # The exact call uvicorn makes for an access log line.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "POST", f"/webhooks/{secret}", "1.1", 200
    )
    logging.getLogger("unified_ats.sync").warning(
        "token %s and key %s", "uats_ct_abc123", "uats_sk_zzz"
    )
    assert secret not in caplog.text
    assert "/webhooks/uats_wh_***" in caplog.text
    assert "uats_ct_abc123" not in caplog.text and "uats_sk_zzz" not in caplog.text
