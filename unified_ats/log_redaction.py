"""Our own secrets never reach a log line, whatever logs them.

API keys, connector tokens and webhook secrets all carry a recognisable prefix; the webhook
secret even sits in a URL path, which uvicorn's access log prints. A log-record factory masks
every prefixed value in each record's message and arguments as the record is created, so it
covers every logger (a logger filter would not reach child loggers).
"""

import logging
import re
from typing import Any

OWN_SECRET = re.compile(r"uats_(?:sk|ct|wh)_[A-Za-z0-9_-]+")
_installed = False


def mask(value: Any) -> Any:
    if isinstance(value, str) and "uats_" in value:
        return OWN_SECRET.sub(lambda m: m.group(0)[:8] + "***", value)
    return value


def protect_service_logs() -> None:
    """Install (once) the masking record factory over whatever factory is in place."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: mask(arg) for key, arg in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
