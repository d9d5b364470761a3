"""Checking pushed values without a query per record.

A record's values are converted field by field (``convert``): the JSON type must fit the field (a number
for an integer, text for a date, true/false for a boolean), text may not hold NUL characters (PostgreSQL
refuses them), date-times must carry a time zone, and the field's ``to_python`` turns the value into
what the model holds. The model's validators then run through ``Model.clean_fields()`` on the built
instance, never ``full_clean()``: that one queries per record (foreign keys, unique values). Those two
are checked in bulk instead: foreign keys by the engine (sync/push/apply.py), unique values by
``unique_conflicts`` below, one query per unique constraint and model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sbsync import discovery
from sbsync.timestamps import OUT_OF_RANGE, as_utc

PK_KEYS = ("id", "pk")
META_KEYS = frozenset({"_model", "_version", "_deleted"})
NON_FIELD = "non_field_errors"

UNUSABLE_PK = "This id cannot be used."
NO_SUCH_ROW = "No row with this id is available to you."
READ_ONLY = "This field is set by the server."
OWN_ORGANIZATION = "This field is set by the server to your organization."
UNKNOWN_FIELD = "Unknown field."
NOT_NULL = "This field cannot be null."
NOT_SCALAR = "Give a single value, not a list or an object."
NUL_CHARACTER = "Text may not contain NUL characters."
NAIVE_DATETIME = "Give a date and time with a time zone, e.g. 2026-01-31T10:00:00Z."
GIVEN_TWICE = "This field is given twice (by name and by attname)."
ALREADY_EXISTS = "A row with this value already exists."
ALREADY_EXISTS_TOGETHER = "A row with the same {fields} already exists."

TEXT_FIELDS = (models.CharField, models.TextField)
TEXT_VALUED_FIELDS = (
    models.DateField,
    models.TimeField,
    models.DurationField,
    models.UUIDField,
    models.BinaryField,
    models.GenericIPAddressField,
)


def writable_fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    """Fields a client may write, by name: concrete, editable, not the primary key, not server-owned
    (discovery.read_only_fields), not generated and not files (a client must not name server paths).
    Foreign keys are further narrowed by the engine to targets the caller may use."""
    read_only = discovery.read_only_fields(model)
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.editable
        and not f.generated
        and f.name not in read_only
        and not isinstance(f, models.FileField)
    }


def contains_nul(value: Any) -> bool:
    """Whether any text inside ``value`` (keys included) holds a NUL character. Iterative, so a deeply
    nested value cannot exhaust the interpreter's stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _check_json_type(field: models.Field[Any, Any], value: Any) -> None:
    """Refuse JSON types that do not fit the field, instead of letting ``to_python`` coerce them
    (``True`` would become 1, ``5`` would become "5")."""
    if isinstance(value, (dict, list)):
        raise ValidationError(NOT_SCALAR)
    if isinstance(field, models.BooleanField):
        if not isinstance(value, bool):
            raise ValidationError("Give true or false.")
    elif isinstance(field, models.IntegerField):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Give a whole number.")
    elif isinstance(field, models.FloatField):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Give a number.")
    elif isinstance(field, models.DecimalField):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError("Give a number or a decimal string.")
    elif isinstance(field, TEXT_FIELDS + TEXT_VALUED_FIELDS):
        if not isinstance(value, str):
            raise ValidationError("Give a text value.")
    elif isinstance(value, bool):
        raise ValidationError("Give a value of this field's type, not true or false.")


def _to_python(field: models.Field[Any, Any], value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(NUL_CHARACTER)
    if isinstance(field, models.DateTimeField):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError("Give a date and time in ISO 8601 form.")
        if timezone.is_naive(parsed):
            raise ValidationError(NAIVE_DATETIME)
        try:
            return as_utc(parsed)
        except ValueError:
            raise ValidationError(
                f"Give a date and time {OUT_OF_RANGE.replace('outside', 'within')}."
            ) from None
    converted = field.to_python(value)
    if isinstance(field, models.IntegerField) and converted is not None:
        # The type's own range, as PostgreSQL enforces it: SQLite would store any 64-bit integer, so the
        # same record would get another answer there.
        low, high = BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type(), (None, None))
        if low is not None:
            MinValueValidator(low)(converted)
        if high is not None:
            MaxValueValidator(high)(converted)
    return converted


def convert_key(field: models.Field[Any, Any], value: Any) -> Any:
    """A primary-key value (of ``field``, a primary key or a foreign key's target field) as Python,
    within the column's range. Raises ValidationError."""
    if value is None:
        raise ValidationError(NOT_NULL)
    _check_json_type(field, value)
    converted = _to_python(field, value)
    field.run_validators(converted)
    return converted


def convert(field: models.Field[Any, Any], value: Any) -> Any:
    """The Python value of ``field`` for a pushed JSON value. Raises ValidationError. Validators run
    later, through ``clean_fields`` (foreign keys: the target's existence is checked in bulk)."""
    if value is None:
        if not field.null:
            raise ValidationError(NOT_NULL)
        return None
    if isinstance(field, models.JSONField):
        if contains_nul(value):
            raise ValidationError(NUL_CHARACTER)
        return value
    if isinstance(field, models.ForeignKey):
        return convert_key(field.target_field, value)
    _check_json_type(field, value)
    return _to_python(field, value)


def error_messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def unique_sets(model: type[models.Model]) -> list[tuple[models.Field[Any, Any], ...]]:
    """Every set of fields whose values must be unique together (the primary key aside), from
    ``unique=True``, ``unique_together`` and unconditional ``UniqueConstraint``s. Constraints with
    conditions or expressions are left to the database (a refused write falls back per record)."""
    meta = model._meta
    found: dict[tuple[str, ...], tuple[models.Field[Any, Any], ...]] = {}
    for f in meta.concrete_fields:
        if f.unique and not f.primary_key:
            found[(f.attname,)] = (f,)
    names_lists: list[Iterable[str]] = [
        *meta.unique_together,
        *(c.fields for c in meta.total_unique_constraints),
    ]
    by_name = {f.name: f for f in meta.concrete_fields}
    for names in names_lists:
        fields = tuple(by_name[n] for n in names)
        found.setdefault(tuple(f.attname for f in fields), fields)
    return list(found.values())


def unique_conflicts(
    model: type[models.Model], rows: list[tuple[int, models.Model]]
) -> dict[int, dict[str, list[str]]]:
    """Which of ``rows`` (key, instance about to be written) would break a unique constraint, against
    the table or an earlier row of the same list. One query per constraint, fetching the rows that share
    the most selective of its fields. Values containing NULL never conflict (SQL semantics)."""
    errors: dict[int, dict[str, list[str]]] = {}
    pk_attname = model._meta.pk.attname
    for fields in unique_sets(model):
        attnames = [f.attname for f in fields]
        candidates = [
            (key, instance, tuple(getattr(instance, a) for a in attnames))
            for key, instance in rows
            if key not in errors
        ]
        candidates = [c for c in candidates if None not in c[2]]
        if not candidates:
            continue
        lead = max(range(len(attnames)), key=lambda i: len({c[2][i] for c in candidates}))
        lookup = {f"{attnames[lead]}__in": sorted({c[2][lead] for c in candidates}, key=str)}
        existing = {
            tuple(row[1:]): row[0]
            for row in model._base_manager.filter(**lookup).values_list(pk_attname, *attnames)
        }
        seen: set[tuple[Any, ...]] = set()
        for key, instance, value in candidates:
            holder = existing.get(value)
            if value in seen or (holder is not None and holder != instance.pk):
                if len(fields) == 1:
                    errors[key] = {fields[0].name: [ALREADY_EXISTS]}
                else:
                    names = ", ".join(f.name for f in fields)
                    errors[key] = {NON_FIELD: [ALREADY_EXISTS_TOGETHER.format(fields=names)]}
            seen.add(value)
    return errors
