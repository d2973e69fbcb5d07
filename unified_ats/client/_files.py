"""Downloads to disk: the server's file name, made safe, and a write that is all or nothing."""

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

StrPath = str | os.PathLike[str]

MAX_NAME_BYTES = 200
"""Room under the usual 255-byte limit of a file name."""

_PARAMETER = re.compile(
    r";\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;]*)", re.DOTALL
)
_UNSAFE = re.compile(r'[<>:"|?*]')
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in range(10)}
)


def file_name_from(content_disposition: str | None) -> str | None:
    """The file name a ``Content-Disposition`` header gives: ``filename*`` (RFC 5987, UTF-8)
    first, else ``filename``. None when it names none (the value is not yet safe to use)."""
    if not content_disposition:
        return None
    parameters: dict[str, str] = {}
    for match in _PARAMETER.finditer(content_disposition):
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        parameters.setdefault(match.group(1).lower(), value)
    extended = parameters.get("filename*")
    if extended is not None:
        charset, _, rest = extended.partition("'")
        _language, _, encoded = rest.partition("'")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    return parameters.get("filename")


def safe_file_name(name: str | None, fallback: str) -> str:
    """A name that stays inside the directory it is joined to, on any OS: the last path
    component only, no control or invisible format characters, no characters Windows forbids,
    no leading or trailing dots or spaces, not a device name, at most ``MAX_NAME_BYTES`` bytes.
    ``fallback`` (itself made safe) when nothing usable is left."""
    cleaned = _clean(name or "")
    if cleaned:
        return cleaned
    return _clean(fallback) or "download"


def _clean(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    name = _UNSAFE.sub("_", name).strip(" .")
    if name.split(".")[0].upper().rstrip() in _RESERVED:
        name = f"_{name}"
    return _shorten(name)


def _shorten(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode("utf-8")) > 16:
        stem, extension = name, ""
    room = MAX_NAME_BYTES - len(extension.encode("utf-8")) - (1 if extension else 0)
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .")
    return f"{stem}.{extension}" if extension else stem


@contextmanager
def atomic_file(directory: Path, file_name: str) -> Iterator[tuple[Path, BinaryIO]]:
    """Write a download to a temporary file in ``directory`` and move it to ``file_name`` only
    when complete, so a failed download never leaves a truncated file behind. The file is
    readable by its owner only (mode 0600): attachments are personal data."""
    path = directory / file_name
    if path.parent.resolve() != directory.resolve():  # unreachable with a safe name
        raise ValueError(f"{file_name!r} would be written outside {directory}")
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".unified-ats-", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield path, file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
