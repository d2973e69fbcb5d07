"""Runs the code examples of the docs: a block under ``<!-- example: name -->`` is executed as
written, and every such block must have a test (a doc that lies is worse than none)."""

import re
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"
TAG = re.compile(r"<!-- example: ([\w-]+) -->\n```python\n(.*?)```", re.S)


def examples(doc: str) -> dict[str, str]:
    """Every tagged example of ``docs/<doc>``, by name."""
    return dict(TAG.findall((DOCS / doc).read_text(encoding="utf-8")))


def example(doc: str, name: str) -> dict[str, Any]:
    """The example ``name`` of ``docs/<doc>``, executed into a fresh namespace (not as
    ``__main__``: a ``if __name__ == "__main__":`` block does not run)."""
    code = examples(doc).get(name)
    assert code, f"docs/{doc} has no example {name!r}"
    namespace: dict[str, Any] = {"__name__": f"docs.{doc}.{name}"}
    exec(compile(code, f"docs/{doc}:{name}", "exec"), namespace)  # noqa: S102
    return namespace
