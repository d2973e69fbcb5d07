"""The streaming array reader gives exactly json.loads' items, whatever the chunking."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk.streaming import iter_json_array

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


async def collect(text: str, size: int) -> list:
    async def chunks():
        for start in range(0, len(text), size):
            yield text[start : start + size]

    return [item async for item in iter_json_array(chunks())]


@given(st.lists(json_values, max_size=8), st.integers(min_value=1, max_value=40), st.booleans())
async def test_items_match_json_loads_for_any_chunking(
    items: list, size: int, pretty: bool
) -> None:
    text = json.dumps(items, indent=2 if pretty else None, ensure_ascii=False)
    assert await collect(text, size) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1}', "[1, 2", '[{"a": 1}', "[1 2]", "[1,,2]", "[1] x", ""])
async def test_malformed_arrays_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        await collect(text, 3)
