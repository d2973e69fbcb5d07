"""No secret reaches a log line, whatever logs it, at any level.

API keys, connector tokens and webhook secrets all carry a recognisable prefix; the webhook
secret even sits in a URL path, which uvicorn's access log and httpx's request log print.
Vendor credentials, presigned URLs and file tokens come from the connectors.

A log-record factory applies the SDK's one redaction (:data:`connectors.sdk.logs.LOG_REDACTION`:
query strings out of every URL, connectors' path patterns, ``Authorization``/``Bearer``/``Token``
values, every vendor secret a connector registered) plus our prefixed secrets to each record's
whole formatted message and traceback, as the record is created. So it covers every logger
and every level (a logger filter would not reach child loggers), and records with nothing to
hide cost one formatting and one regex search.
"""

import logging
import re
from typing import Any

from connectors.sdk.logs import LOG_REDACTION, protect_http_logs

OWN_SECRET = re.compile(r"uats_(?:sk|ct|wh|fl|lt|pt)_(?P<secret>[A-Za-z0-9_-]+)")
"""Our prefixed secrets; the prefix stays in the log line (``uats_wh_***``), the rest goes."""

_installed = False


def mask(text: str) -> str:
    """``text`` as it may appear in a log line."""
    return LOG_REDACTION.redact(text)


def protect_service_logs() -> None:
    """Install (once) the redacting record factory over whatever factory is in place."""
    global _installed
    if _installed:
        return
    LOG_REDACTION.add_patterns([OWN_SECRET])
    protect_http_logs()
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        LOG_REDACTION.redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
