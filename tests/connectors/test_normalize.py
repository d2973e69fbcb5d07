"""Pure normalization rules shared by all mappings."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk import normalize
from connectors.sdk.files import disposition_file_name, with_extension


def test_empty_strings_become_none_and_text_is_trimmed() -> None:
    assert normalize.text("") is None
    assert normalize.text("   ") is None
    assert normalize.text("  Zoé ") == "Zoé"
    assert normalize.text(None) is None


def test_emails_are_trimmed_and_lowercased() -> None:
    assert normalize.email("  JEAN.Dupont@Example.COM ") == "jean.dupont@example.com"
    assert normalize.email("") is None


def test_phones_become_e164_when_parseable_else_kept() -> None:
    assert normalize.phone("+33 6 37 89 87 57") == "+33637898757"
    assert normalize.phone("06 06 12 34 56", default_region="FR") == "+33606123456"
    assert normalize.phone("n/c", default_region="FR") == "n/c"
    assert normalize.phone("") is None


def test_dates_come_out_in_utc() -> None:
    assert normalize.iso_datetime("2016-08-23T12:55:27.206+02:00") == datetime(
        2016, 8, 23, 10, 55, 27, 206000, tzinfo=UTC
    )
    assert normalize.iso_datetime("2022-02-16T14:36:53.745Z").tzinfo == UTC
    assert normalize.epoch_datetime(1643904014) == datetime(2022, 2, 3, 16, 0, 14, tzinfo=UTC)
    assert normalize.iso_datetime("not a date") is None


@given(st.text())
def test_text_never_raises_and_never_returns_blank(value: str) -> None:
    result = normalize.text(value)
    assert result is None or (result.strip() == result and result)


@given(st.text(max_size=30))
def test_phone_never_raises(value: str) -> None:
    normalize.phone(value, default_region="FR")


def test_file_names_get_an_extension_from_the_content_type() -> None:
    assert with_extension("example", "application/pdf") == "example.pdf"
    assert with_extension("cv.docx", "application/pdf") == "cv.docx"
    assert disposition_file_name("attachment; filename*=UTF-8''C%C3%A9line.pdf") == "Céline.pdf"
    assert disposition_file_name('attachment; filename="cv.pdf"') == "cv.pdf"


@given(st.uuids(), st.text(max_size=40))
def test_id_scope_gives_exactly_uuid5(namespace, remote_id: str) -> None:
    import uuid

    from connectors.sdk.base import IdScope

    ids = IdScope(namespace)
    assert ids.candidate_id(remote_id) == uuid.uuid5(namespace, f"candidate:{remote_id}")
    assert ids.attachment_id(remote_id) == uuid.uuid5(namespace, f"attachment:{remote_id}")
    assert ids.candidate_id(remote_id).version == 5
    assert str(ids.candidate_id(remote_id)) == str(uuid.uuid5(namespace, f"candidate:{remote_id}"))


@given(st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none()))
def test_epoch_dates_never_raise_whatever_the_vendor_sends(value: object) -> None:
    """Odd vendor values ("²", a 5,000-digit string, inf) are no date, never an exception."""
    result = normalize.epoch_datetime(value)
    assert result is None or result.tzinfo == UTC


def test_epoch_digits_that_are_not_ascii_or_absurdly_long_are_no_date() -> None:
    assert normalize.epoch_datetime("²") is None
    assert normalize.epoch_datetime("1" * 5000) is None
    assert normalize.epoch_datetime(" 1643904014 ") == datetime(2022, 2, 3, 16, 0, 14, tzinfo=UTC)
