"""The extension's raw records (tuples in the field order of the matching
dism.types dataclass) built from, and turned into, dicts keyed by field name:
for tests that feed the Python layer raw values or read the C layer's."""
from __future__ import annotations

import dataclasses
from typing import Any


def _nested_record(spec: dataclasses.Field[Any]) -> Any:
    return getattr(spec.metadata.get("convert"), "record", None)


def raw_record(cls: type, values: dict[str, Any]) -> tuple[Any, ...]:
    """The tuple the extension returns for the record `cls`, from a dict of
    raw values keyed by the dataclass's field names (nested records as dicts
    too).  It stops at the first field the dict lacks, as a shorter tuple."""
    raw = []
    for spec in dataclasses.fields(cls):
        if spec.name not in values:
            break
        value = values[spec.name]
        nested = _nested_record(spec)
        raw.append([raw_record(nested, v) for v in value] if nested else value)
    return tuple(raw)


def record_dict(cls: type, raw: Any) -> Any:
    """The extension's tuple for the record `cls` as a dict keyed by the
    dataclass's field names, nested records too; a list of them for a list."""
    if isinstance(raw, list):
        return [record_dict(cls, item) for item in raw]
    out = {}
    for spec, value in zip(dataclasses.fields(cls), raw):
        nested = _nested_record(spec)
        out[spec.name] = record_dict(nested, value) if nested else value
    return out
