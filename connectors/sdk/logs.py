"""Keeping credentials out of httpx's own log lines.

httpx logs every request URL at INFO (``HTTP Request: GET <url> "HTTP/1.1 200 OK"``). Presigned
storage URLs carry a signature in their query string, and some vendors put time-limited tokens
in the path (viasto's ``…/cv/<token>/``). This filter drops query strings from logged URLs and
masks the path patterns connectors declare, so an operator who turns on INFO logging leaks none.
"""

import logging
import re
from collections.abc import Iterable
from typing import Any

from connectors.sdk.secrets import REDACTED, safe_target


class RedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._patterns: list[re.Pattern[str]] = []

    def add_patterns(self, patterns: Iterable[re.Pattern[str]]) -> None:
        for pattern in patterns:
            if pattern not in self._patterns:
                self._patterns.append(pattern)

    def clean(self, value: Any) -> Any:
        text = str(value)
        if "://" not in text:
            return value
        text = safe_target(text)
        for pattern in self._patterns:
            text = pattern.sub(lambda m: m.group(0).replace(m.group("secret"), REDACTED), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.clean(arg) for arg in record.args)
        return True


_FILTER = RedactingFilter()


def protect_http_logs(patterns: Iterable[re.Pattern[str]] = ()) -> None:
    """Install (once) the filter on httpx's and httpcore's loggers, with extra path patterns.

    A pattern must have a named group ``secret``: the part of the URL to mask.
    """
    _FILTER.add_patterns(patterns)
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
