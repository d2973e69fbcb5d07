"""docs/coverage.md is generated from the connectors' declarations and must not go stale."""

from connectors import default_registry
from connectors.sdk.coverage import COVERAGE_PATH, render_coverage


def test_coverage_doc_is_current() -> None:
    expected = render_coverage(default_registry().all())
    assert COVERAGE_PATH.read_text(encoding="utf-8") == expected, (
        "docs/coverage.md is stale: run `python -m connectors.sdk.coverage`"
    )


def test_every_connector_appears_in_the_coverage_doc() -> None:
    text = COVERAGE_PATH.read_text(encoding="utf-8")
    for connector in default_registry().all():
        assert connector.display_name in text
