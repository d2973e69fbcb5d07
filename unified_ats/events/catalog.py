"""The event types a tenant can subscribe to, and how an endpoint's filters select them."""

from collections.abc import Iterable, Sequence

RECORD_MODELS = ("candidate", "application", "job", "attachment")
RECORD_ACTIONS = ("created", "updated", "deleted")

EVENT_TYPES: dict[str, str] = {
    "connection.created": "An ATS account was linked (API, CLI or hosted link page).",
    "connection.deleted": "A connection and everything stored for it were deleted.",
    "connection.relinked": "A connection got new credentials through the hosted link page.",
    "sync.started": "A sync run started.",
    "sync.succeeded": "A sync run finished; `state` is `succeeded`, or `partial` when it "
    "could not prove the enumeration complete (then it marked nothing deleted).",
    "sync.failed": "A sync run failed or was interrupted; `error` is the mapped reason.",
    **{
        f"{model}.{action}": f"A {model} was {action} (from a content-hash change"
        + (
            "; only after a complete enumeration or the vendor's word)."
            if action == "deleted"
            else ")."
        )
        for model in RECORD_MODELS
        for action in RECORD_ACTIONS
    },
    "webhook_endpoint.disabled": "An endpoint failed for five days and was disabled.",
}

TABLE_MODELS = {
    "candidates": "candidate",
    "applications": "application",
    "jobs": "job",
    "attachments": "attachment",
}
"""Stored tables whose changes are events (stages travel inside their job)."""


def event_model_of(table: object) -> str | None:
    """The event family of a stored table's changes, or None when they are not events."""
    return TABLE_MODELS.get(getattr(table, "__tablename__", ""))


def filter_problem(pattern: str) -> str | None:
    """Why a subscription filter selects nothing, or None: ``*``, a type, or ``family.*``."""
    if pattern == "*" or pattern in EVENT_TYPES:
        return None
    if pattern.endswith(".*") and any(t.startswith(pattern[:-1]) for t in EVENT_TYPES):
        return None
    return f"unknown event type or filter {pattern!r}"


def selects(filters: Iterable[str], event_type: str) -> bool:
    for pattern in filters:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def any_selects(subscriptions: Sequence[Sequence[str]], event_type: str) -> bool:
    return any(selects(filters, event_type) for filters in subscriptions)
