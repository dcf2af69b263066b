"""Parameters of OpenGWAS-style routes: form fields, a JSON body or the query string.

OpenGWAS (Flask-RESTX ``reqparse``) reads each parameter from wherever it comes, and its
clients send lists as repeated form keys (``id=a&id=b``, what ieugwaspy and ieugwasr do)
or JSON (``{"id": ["a", "b"]}``). :func:`request_params` gathers all of them, in order,
into one :class:`Params`; the typed readers answer a mistake with a 400 naming the
parameter, so a route validates everything before it charges the allowance.

- Lists: every occurrence, each also split on commas (ieugwaspy joins PheWAS variants
  with commas), blanks dropped.
- Single values: given twice (two keys, or a JSON list of two) is a 400.
- JSON: an object whose values are strings, numbers, booleans (``true`` = 1), null
  (absent) or lists of those.
- Unknown parameters are ignored, as OpenGWAS does (clients send e.g. ``bychr``).
"""

from __future__ import annotations

import json
import math
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from omicsgate.web.errors import ApiError

MAX_BODY_ITEMS = 100_000


class Params:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.items if key == name]

    def given(self, name: str) -> bool:
        return any(key == name for key, _ in self.items)

    def ids(
        self,
        name: str,
        *,
        limit: int,
        required: bool = True,
        split: bool = True,
        unique: bool = True,
    ) -> list[str]:
        """Every item of a list parameter, order kept, duplicates dropped (kept when
        ``unique`` is false: a list paired with another by position)."""
        raw = self.values(name)
        parts = [p for value in raw for p in (value.split(",") if split else [value])]
        stripped = [p.strip() for p in parts if p.strip()]
        items = list(dict.fromkeys(stripped)) if unique else stripped
        if not items and required:
            raise ApiError(400, "at least one value is required", name)
        if len(items) > limit:
            raise ApiError(400, f"{len(items)} values given, at most {limit} allowed", name)
        if any(len(item) > 256 for item in items):
            raise ApiError(400, "a value is longer than 256 characters", name)
        return items

    def one(self, name: str) -> str | None:
        values = self.values(name)
        if len(values) > 1:
            raise ApiError(400, "given more than once; it takes one value", name)
        if not values or not values[0].strip():
            return None
        return values[0].strip()

    def number(
        self, name: str, default: float, low: float, high: float, low_open: bool = False
    ) -> float:
        """A float in [low, high] (``(low, high]`` with ``low_open``)."""
        text = self.one(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise ApiError(400, f"{text!r} is not a number", name) from None
        below = value <= low if low_open else value < low
        if math.isnan(value) or below or value > high:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
            raise ApiError(400, f"{text} is outside {interval}", name)
        return value

    def numbers(
        self, name: str, *, limit: int, low: float, high: float, low_open: bool = False
    ) -> list[float]:
        """Every item of a list of floats in [low, high] (``(low, high]`` with
        ``low_open``), order and repeats kept."""
        values = []
        for text in self.ids(name, limit=limit, unique=False):
            value = Params([(name, text)]).number(name, math.nan, low, high, low_open)
            values.append(value)
        return values

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        text = self.one(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise ApiError(400, f"{text!r} is not an integer", name) from None
        if not value.is_integer() or not low <= value <= high:
            raise ApiError(400, f"{text} is not an integer in [{low}, {high}]", name)
        return int(value)

    def flag(self, name: str, default: bool) -> bool:
        """0/1 (OpenGWAS's ints), also true/false."""
        text = self.one(name)
        if text is None:
            return default
        lowered = text.lower()
        if lowered in ("1", "true", "1.0"):
            return True
        if lowered in ("0", "false", "0.0"):
            return False
        raise ApiError(400, f"{text!r} is neither 0 nor 1", name)


def _json_items(body: bytes) -> list[tuple[str, str]]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON", "body") from None
    if not isinstance(document, dict):
        raise ApiError(400, "a JSON body must be an object of parameters", "body")
    items: list[tuple[str, str]] = []
    for key, value in document.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                items.append((key, "1" if item else "0"))
            elif isinstance(item, str | int | float):
                items.append((key, str(item)))
            else:
                raise ApiError(400, "takes strings, numbers or lists of them", str(key))
    return items


def _form_items(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise ApiError(400, "form fields must be UTF-8", "body") from None
    return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_BODY_ITEMS)


async def request_params(request: Request) -> Params:
    items = list(request.query_params.multi_items())
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if body.strip():
            if kind == "application/json" or (not kind and body.lstrip()[:1] == b"{"):
                items += _json_items(body)
            elif kind in ("application/x-www-form-urlencoded", "text/plain", ""):
                try:
                    items += _form_items(body)
                except ValueError:
                    raise ApiError(400, "too many form fields", "body") from None
            else:
                raise ApiError(
                    415, f"send form fields or JSON, not {kind}", "content-type"
                )  # multipart and others
    return Params(items)


RequestParams = Annotated[Params, Depends(request_params)]
