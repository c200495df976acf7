"""Matching of actual values against the expected values of MongoDB's unified test format.

Implements the rules of the format's "Evaluating Matches" section that the GridFS tests use, with one
deliberate tightening: callers choose per comparison whether a root-level document may carry fields the
expectation does not list (the format allows that for every root-level document; the conformance runner
allows it only for command documents and CRUD result summaries, never for stored documents).

- Arrays are compared element by element and their lengths must be equal.
- Numbers (int32, int64, double) are equal when their values are (the format's rule); booleans are never
  numbers; Decimal128 only equals Decimal128.
- Binary values must agree on subtype and bytes.
- Special operators: ``$$type``, ``$$exists``, ``$$unsetOrMatches``, ``$$matchesEntity``,
  ``$$matchesHexBytes``, ``$$hexBytes``. Any other ``$$`` operator is an error (never silently passed).
- ``query_eq`` (for commands a driver sent, never for stored documents): an actual ``{$eq: v}`` matches an
  expected plain value ``v`` that is not a document, array or regex: the two filters select the same
  documents in MongoDB's query language. pymongo >= 4.x sends ``{_id: {$eq: id}}`` for GridFS downloads by
  id (pymongo-extra/queries-use-eq.json checks that shape exactly: its expectations are ``$eq`` documents,
  which stay strict), while the retryable-reads files expect ``{_id: id}``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from bson import Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp

_MISSING = object()


class MatchError(AssertionError):
    """An actual value does not match its expectation; the message names the path."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _binary_parts(value: Any) -> tuple[int, bytes] | None:
    if isinstance(value, Binary):
        return value.subtype, bytes(value)
    if isinstance(value, (bytes, bytearray)):
        return 0, bytes(value)
    return None


def bson_type_name(value: Any) -> str:
    """The unified format's type alias of a decoded BSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "long"
    if isinstance(value, int):
        return "int" if -2**31 <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, ObjectId):
        return "objectId"
    if isinstance(value, datetime.datetime):
        return "date"
    if _binary_parts(value) is not None:
        return "binData"
    if isinstance(value, Mapping) or isinstance(value, DBRef):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Decimal128):
        return "decimal"
    if isinstance(value, (Regex, re.Pattern)):
        return "regex"
    if isinstance(value, Timestamp):
        return "timestamp"
    if isinstance(value, MinKey):
        return "minKey"
    if isinstance(value, MaxKey):
        return "maxKey"
    if isinstance(value, Code):
        return "javascriptWithScope" if value.scope else "javascript"
    return type(value).__name__


def _operator(expected: Any) -> str | None:
    """The `$$` operator of a special-operator document, or None."""
    if isinstance(expected, Mapping) and len(expected) == 1:
        key = next(iter(expected))
        if isinstance(key, str) and key.startswith("$$"):
            return key
    return None


class Matcher:
    """Compares values under the unified format's rules, resolving `$$matchesEntity` in `entities`."""

    def __init__(self, entities: Mapping[str, Any]) -> None:
        self.entities = entities
        self.query_eq = False

    def match(self, expected: Any, actual: Any, path: str = "$", *, allow_extra_root: bool = False,
              check_order: bool = False, query_eq: bool = False) -> None:
        """Raises MatchError unless `actual` matches `expected`.

        `allow_extra_root`: a document at this level may have fields `expected` does not list (nested
        documents never may). `check_order`: the fields of documents that both list must also appear in
        the same order (applies at every depth).
        """
        self.query_eq = query_eq
        try:
            self._match(expected, actual, path, allow_extra_root, check_order)
        finally:
            self.query_eq = False

    # --- internals ------------------------------------------------------------------------------

    def _match(self, expected: Any, actual: Any, path: str, allow_extra: bool, order: bool) -> None:
        op = _operator(expected)
        if op is not None:
            self._special(op, expected[op], actual, path, order)
            return
        if isinstance(expected, Mapping):
            self._document(expected, actual, path, allow_extra, order)
            return
        if (self.query_eq and isinstance(actual, Mapping) and list(actual.keys()) == ["$eq"]
                and not isinstance(expected, (list, tuple, Regex, re.Pattern))):
            # {f: v} and {f: {$eq: v}} are the same filter (see the module's docstring).
            self._scalar(expected, actual["$eq"], f"{path}.$eq")
            return
        if isinstance(expected, (list, tuple)):
            if not isinstance(actual, (list, tuple)):
                raise MatchError(f"{path}: expected an array, got {bson_type_name(actual)} {actual!r}")
            if len(expected) != len(actual):
                raise MatchError(f"{path}: expected {len(expected)} elements, got {len(actual)}: {actual!r}")
            for index, (e, a) in enumerate(zip(expected, actual)):
                # Elements of a root-level array are root-level documents.
                self._match(e, a, f"{path}[{index}]", allow_extra, order)
            return
        self._scalar(expected, actual, path)

    def _document(self, expected: Mapping, actual: Any, path: str, allow_extra: bool, order: bool) -> None:
        if not isinstance(actual, Mapping):
            raise MatchError(f"{path}: expected a document, got {bson_type_name(actual)} {actual!r}")
        present: list[str] = []
        for key, value in expected.items():
            sub = f"{path}.{key}"
            op = _operator(value)
            if op == "$$exists":
                if bool(value[op]) != (key in actual):
                    raise MatchError(f"{sub}: expected the field to {'exist' if value[op] else 'be absent'}")
                if key in actual:
                    present.append(key)
                continue
            if op == "$$unsetOrMatches" and key not in actual:
                continue
            if key not in actual:
                raise MatchError(f"{sub}: missing (document has {list(actual.keys())})")
            present.append(key)
            self._match(value, actual[key], sub, False, order)
        if not allow_extra:
            extra = [k for k in actual.keys() if k not in expected]
            if extra:
                raise MatchError(f"{path}: unexpected fields {extra} in {dict(actual)!r}")
        if order:
            actual_order = [k for k in actual.keys() if k in present]
            if actual_order != present:
                raise MatchError(f"{path}: field order {actual_order}, expected {present}")

    def _special(self, op: str, operand: Any, actual: Any, path: str, order: bool) -> None:
        if op == "$$type":
            names = operand if isinstance(operand, list) else [operand]
            name = bson_type_name(actual)
            if name not in names and not (name == "long" and "number" in names) and not (
                    name in ("int", "double", "decimal") and "number" in names):
                raise MatchError(f"{path}: expected type {names}, got {name} ({actual!r})")
        elif op == "$$unsetOrMatches":
            if actual is _MISSING:
                return
            self._match(operand, actual, path, False, order)
        elif op == "$$matchesEntity":
            if operand not in self.entities:
                raise MatchError(f"{path}: unknown entity {operand!r}")
            self._match(self.entities[operand], actual, path, False, order)
        elif op == "$$matchesHexBytes" or op == "$$hexBytes":
            parts = _binary_parts(actual)
            if parts is None:
                raise MatchError(f"{path}: expected bytes, got {bson_type_name(actual)} {actual!r}")
            want = bytes.fromhex(operand)
            if parts[1] != want:
                raise MatchError(f"{path}: expected bytes {want.hex()!r}, got {parts[1].hex()!r}")
        elif op == "$$exists":
            raise MatchError(f"{path}: $$exists outside a document")
        else:
            raise MatchError(f"{path}: unsupported special operator {op}")

    def _scalar(self, expected: Any, actual: Any, path: str) -> None:
        if _is_number(expected) and _is_number(actual):
            if expected != actual:
                raise MatchError(f"{path}: expected {expected!r}, got {actual!r}")
            return
        exp_bin, act_bin = _binary_parts(expected), _binary_parts(actual)
        if exp_bin is not None or act_bin is not None:
            if exp_bin != act_bin:
                raise MatchError(f"{path}: expected binary {exp_bin!r}, got {actual!r}")
            return
        if isinstance(expected, bool) or isinstance(actual, bool):
            if not (isinstance(expected, bool) and isinstance(actual, bool) and expected == actual):
                raise MatchError(f"{path}: expected {expected!r}, got {actual!r}")
            return
        if bson_type_name(expected) != bson_type_name(actual) or expected != actual:
            raise MatchError(f"{path}: expected {bson_type_name(expected)} {expected!r}, "
                             f"got {bson_type_name(actual)} {actual!r}")


MISSING = _MISSING
"""Pass as `actual` when a result is absent (matches only `$$unsetOrMatches`)."""
