"""Reading a top-level JSON array item by item, so a huge vendor answer never sits in memory.

Flatchr answers a search with one array of every applicant; a 100k-applicant company would
otherwise be parsed whole before the first page could be written.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


class NotAJsonArray(ValueError):
    pass


async def iter_json_array(chunks: AsyncIterator[str]) -> AsyncIterator[Any]:
    """Yield each element of a JSON array arriving as text chunks; ValueError if malformed."""
    buffer = ""
    position = 0
    started = False
    finished = False
    expect_item = True
    any_item = False
    async for chunk in chunks:
        buffer = buffer[position:] + chunk
        position = 0
        while True:
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                position += 1
            if position >= len(buffer):
                break
            if finished:
                raise NotAJsonArray("data after the end of the array")
            if not started:
                if buffer[position] != "[":
                    raise NotAJsonArray("the body is not a JSON array")
                started = True
                position += 1
                continue
            char = buffer[position]
            if char == "]" and (not expect_item or not any_item):
                finished = True
                position += 1
                continue
            if char == "," and not expect_item:
                expect_item = True
                position += 1
                continue
            if not expect_item:
                raise NotAJsonArray("expected ',' or ']' between array items")
            try:
                item, end = _DECODER.raw_decode(buffer, position)
            except json.JSONDecodeError:
                break  # the item is not complete yet: wait for more text
            if isinstance(item, int | float) and (
                end == len(buffer) or buffer[end] not in ",]" + _WHITESPACE
            ):
                break  # a number is complete only once a delimiter follows ("1" may become "1.5")
            position = end
            expect_item = False
            any_item = True
            yield item
    if not started or not finished:
        raise NotAJsonArray("the JSON array is truncated")
