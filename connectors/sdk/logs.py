"""No credential in any log line, at any level.

httpx logs every request URL at INFO; httpcore, at DEBUG, logs response headers (a redirect's
``Location`` to presigned storage, as bytes tuples) through child loggers
(``httpcore.http11``, ``httpcore.connection``...). Presigned URLs carry a signature in their
query string, vendors put time-limited tokens in paths (viasto's ``…/cv/<token>/``), and
credentials travel in ``Authorization`` headers.

One redaction, :class:`LogRedaction`, cleans a record's whole formatted message (and its
formatted traceback): it removes query strings (and userinfo) from every URL, masks the path
patterns connectors declare, ``Authorization``/``Bearer``/``Token`` header values, and every
literal secret registered (each connector registers its settings' credentials). A text with
nothing to redact costs one regex search.

The SDK installs it as a filter on httpx's and httpcore's loggers and on each of their child
loggers (a parent logger's filter never sees a child's records). The service applies the same
redaction to every record of every logger through a log-record factory.
"""

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from connectors.sdk.secrets import REDACTED, Redactor

MIN_SECRET_LENGTH = 4
"""Shorter values are not masked: they would hide ordinary words in every line."""

HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    # The default transport's pool and parser (connectors.sdk.transport).
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
)


# scheme://[userinfo@]host/path[?query][#fragment] (also JSON-escaped ``:\/\/``).
_URL = re.compile(
    r"""(?P<base>[A-Za-z][A-Za-z0-9+.\-]*:(?://|\\/\\/))"""
    r"""(?P<userinfo>[^\s/\\'"<>@?#]*@)?"""
    r"""(?P<rest>[^\s'"<>?#]*)"""
    r"""(?P<query>[?#][^\s'"<>]*)?"""
)
# A query string glued to anything else: relative targets (``b'/file.pdf?X-Amz-...'``).
_LOOSE_QUERY = re.compile(r"""(?<=[^\s'"<>?])\?[^\s'"<>=?]*=[^\s'"<>]*""")
# ``Authorization: Token x``, ``'authorization': 'Bearer x'``, ``(b'Authorization', b'x')``.
_AUTH_HEADER = re.compile(
    r"""(?i)(?P<head>\b(?:proxy-)?authorization['"]?\s*[:=,]\s*b?['"]?)"""
    r"""(?P<scheme>(?:bearer|token|basic|digest)\s+)?(?P<value>[^\s'",;)}\]]+)"""
)
_SCHEME_VALUE = re.compile(r"""(?P<head>\b(?i:bearer)\s+|\bToken\s+)(?P<value>[^\s'",;)}\]]+)""")
_FORMATTER = logging.Formatter()
_MARK = "_credentials_redacted"


def _url_sub(match: re.Match[str]) -> str:
    if match.group("userinfo") is None and match.group("query") is None:
        return match.group(0)
    return match.group("base") + match.group("rest")


def _masked_value(match: re.Match[str]) -> str:
    scheme = match.groupdict().get("scheme") or ""
    return f"{match.group('head')}{scheme}{REDACTED}"


def _masked_secret_group(match: re.Match[str]) -> str:
    secret = match.group("secret")
    return match.group(0).replace(secret, REDACTED) if secret else match.group(0)


def secret_shapes(secret: str) -> set[str]:
    """A secret as it may appear in a log line: as is, URL-encoded, JSON-escaped."""
    shapes = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)}
    shapes.add(json.dumps(secret)[1:-1])
    shapes.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    return {shape for shape in shapes if len(shape) >= MIN_SECRET_LENGTH}


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of ``words`` (longest first), sharing common prefixes.

    A plain alternation costs a try per word at every position; a trie costs about one per
    distinct next character.
    """
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = []
        for char, child in sorted(node.items()):
            if not char:
                continue
            chain = re.escape(char)
            while len(child) == 1 and "" not in child:  # a chain: no group, no recursion
                ((char, child),) = child.items()
                chain += re.escape(char)
            branches.append(chain + build(child))
        if not branches:
            return ""
        if "" in node:
            return "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(root)


class LogRedaction:
    """Removes credentials from log text and records. Thread-safe; cheap when nothing matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._patterns: tuple[re.Pattern[str], ...] = ()
        # Registered secrets in compiled groups, smallest first, each at least twice the size of
        # the one before (merged like a binary counter): adding a secret recompiles only small
        # groups, and a search costs a few regexes however many connections registered theirs.
        self._levels: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = ()

    # --- registration ------------------------------------------------------------------------

    def add_secrets(self, values: Iterable[str]) -> None:
        """Mask these literal values (and their URL-encoded and JSON-escaped shapes)."""
        shapes: set[str] = set()
        for value in values:
            if isinstance(value, str):
                shapes |= secret_shapes(value)
        with self._lock:
            merged = shapes - self._secrets
            if not merged:
                return
            self._secrets |= merged
            levels = list(self._levels)
            while levels and len(levels[0][0]) <= len(merged):
                merged |= levels.pop(0)[0]
            levels.insert(0, (frozenset(merged), re.compile(_trie_pattern(merged))))
            self._levels = tuple(levels)  # one assignment: readers see the old or the new set

    def add_secret(self, value: str) -> None:
        self.add_secrets([value])

    def add_patterns(self, patterns: Iterable[re.Pattern[str]]) -> None:
        """Mask the named group ``secret`` of each pattern (e.g. a token in a URL path)."""
        with self._lock:
            added = [p for p in patterns if p not in self._patterns]
            for pattern in added:
                if "secret" not in pattern.groupindex:
                    raise ValueError(f"a log redaction pattern needs a group 'secret': {pattern}")
            self._patterns = (*self._patterns, *added)

    def follow(self, redactor: Redactor) -> None:
        """Mask every secret ``redactor`` knows, now and later (tokens obtained at login)."""
        redactor.subscribe(self.add_secret)

    # --- text --------------------------------------------------------------------------------

    def needs_redaction(self, text: str) -> bool:
        # Plain substring tests: several times cheaper than one case-insensitive regex.
        if "?" in text or "://" in text or ":\\/\\/" in text or "Token" in text:
            return True
        lowered = text.lower()
        if "bearer" in lowered or "authoriz" in lowered:
            return True
        for _, literal in self._levels:
            if literal.search(text) is not None:
                return True
        return any(pattern.search(text) is not None for pattern in self._patterns)

    def redact(self, text: str) -> str:
        """``text`` without credentials; the very same object when there is nothing to remove."""
        if not self.needs_redaction(text):
            return text
        clean = self._literals(text)  # first, before other rules cut a secret into pieces
        clean = _URL.sub(_url_sub, clean)
        clean = _LOOSE_QUERY.sub("", clean)
        for pattern in self._patterns:
            clean = pattern.sub(_masked_secret_group, clean)
        clean = _AUTH_HEADER.sub(_masked_value, clean)
        clean = _SCHEME_VALUE.sub(_masked_value, clean)
        clean = self._literals(clean)  # last: nothing the other rules joined shows a secret
        return text if clean == text else clean

    def _literals(self, text: str) -> str:
        levels = self._levels
        while True:  # a masked secret next to "*" can form another (secrets with "*" in them)
            clean = text
            for _, literal in reversed(levels):  # the big groups hold most secrets: first
                clean = literal.sub(REDACTED, clean)
            if clean == text:
                return clean
            text = clean

    # --- records -----------------------------------------------------------------------------

    def redact_record(self, record: logging.LogRecord) -> None:
        """Clean ``record`` in place: its whole message, formatted once, and its traceback.

        When cleaning the arguments one by one is enough, the template and the arguments'
        shape stay (uvicorn's access formatter unpacks its five arguments); otherwise the
        cleaned message replaces ``msg`` and ``args`` become empty. A record is cleaned once
        (the service's record factory, then an SDK filter, see it both).
        """
        if getattr(record, _MARK, False):
            return
        setattr(record, _MARK, True)
        try:
            message = record.getMessage()
            unformattable = False
        except Exception:  # a bad format string: logging would print msg and args raw
            message = f"{record.msg!s} {record.args!r}"
            unformattable = True
        clean = self.redact(message)
        if unformattable or clean is not message:
            args = None if unformattable else self._clean_args(record.msg, record.args, clean)
            if args is not None:
                record.args = args
            else:
                record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)

    def _clean_args(self, msg: object, args: Any, clean: str) -> Any:
        """The arguments cleaned one by one, if that gives exactly the cleaned message."""
        cleaned: Any
        if isinstance(args, tuple) and args:
            cleaned = tuple(self._clean_arg(arg) for arg in args)
        elif isinstance(args, Mapping) and args:
            cleaned = {key: self._clean_arg(arg) for key, arg in args.items()}
        else:
            return None
        try:
            message = str(msg) % cleaned
        except Exception:  # a cleaned argument no longer fits its placeholder (%d...)
            return None
        return cleaned if message == clean else None

    def _clean_arg(self, value: Any) -> Any:
        try:
            text = value if isinstance(value, str) else str(value)
        except Exception:
            return value
        clean = self.redact(text)
        return value if clean is text else clean


LOG_REDACTION = LogRedaction()
"""The process-wide redaction: the SDK's filters and the service's record factory share it."""


class RedactingFilter(logging.Filter):
    """Applies a :class:`LogRedaction` to each record of the logger it is installed on."""

    def __init__(self, redaction: LogRedaction = LOG_REDACTION) -> None:
        super().__init__()
        self.redaction = redaction

    def filter(self, record: logging.LogRecord) -> bool:
        self.redaction.redact_record(record)
        return True


_FILTER = RedactingFilter()


def register_log_secrets(source: Redactor | Iterable[str]) -> None:
    """Mask these vendor secrets in every log line; a :class:`Redactor` is followed (its later
    secrets too)."""
    if isinstance(source, Redactor):
        LOG_REDACTION.follow(source)
    else:
        LOG_REDACTION.add_secrets(source)


def protect_http_logs(patterns: Iterable[re.Pattern[str]] = ()) -> None:
    """Install the filter on httpx's and httpcore's loggers and every child logger of theirs
    (existing ones too), with extra URL path patterns.

    A pattern must have a named group ``secret``: the part to mask. Idempotent.
    """
    LOG_REDACTION.add_patterns(patterns)
    names = set(HTTP_LOGGERS)
    names.update(
        name
        for name in list(logging.root.manager.loggerDict)
        if name.startswith(("httpx.", "httpcore."))
    )
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
