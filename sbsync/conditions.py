"""DataFilter conditions: ``{"field": ..., "operator": ..., "value": ...}`` checked against a model and
turned into a ``Q``. Leaf module (Django and enums only), so models, forms and the engine share it.

The value may stand for the requesting user: ``"$user"`` (its primary key) or ``"$user.<attr>"`` for
``id``, ``pk``, ``username`` or ``email``. "Sales see only customers assigned to them" is then one
filter: ``{"field": "assigned_manager", "operator": "exact", "value": "$user"}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.fields.related import RelatedField

from sbsync.enums import FilterOperator

USER_TOKEN = "$user"
USER_ATTRIBUTES = ("id", "pk", "username", "email")
LIST_OPERATORS = {FilterOperator.IN}
TEXT_OPERATORS = {
    FilterOperator.IEXACT,
    FilterOperator.CONTAINS,
    FilterOperator.ICONTAINS,
    FilterOperator.STARTSWITH,
    FilterOperator.ENDSWITH,
}


def _resolve_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """A concrete field of ``model`` by name or attname (``assigned_manager`` or ``assigned_manager_id``)."""
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    raise FieldDoesNotExist(name)


def _is_user_token(value: Any) -> bool:
    if not isinstance(value, str) or not value.startswith(USER_TOKEN):
        return False
    rest = value[len(USER_TOKEN) :]
    return rest == "" or (rest.startswith(".") and rest[1:] in USER_ATTRIBUTES)


def validate_condition(model: type[models.Model], condition: Any) -> None:
    """Raise ValidationError (keyed by field, operator, value) unless ``condition`` fits ``model``."""
    if not isinstance(condition, dict):
        raise ValidationError({"condition": "A condition is an object with field, operator and value."})
    unknown = set(condition) - {"field", "operator", "value"}
    if unknown:
        raise ValidationError({"condition": f"Unknown keys: {', '.join(sorted(unknown))}."})
    name, operator, value = condition.get("field"), condition.get("operator"), condition.get("value")
    if not isinstance(name, str) or not name:
        raise ValidationError({"field": "Name a field of the model."})
    try:
        field = _resolve_field(model, name)
    except FieldDoesNotExist:
        raise ValidationError({"field": f"{model._meta.label} has no field {name!r}."}) from None
    if operator not in FilterOperator.values:
        raise ValidationError({"operator": f"Choose one of: {', '.join(FilterOperator.values)}."})
    if operator == FilterOperator.ISNULL:
        if not isinstance(value, bool):
            raise ValidationError({"value": "'isnull' takes true or false."})
        return
    if operator in TEXT_OPERATORS and not isinstance(field, (models.CharField, models.TextField)):
        raise ValidationError({"operator": f"{operator!r} applies to text fields only."})
    values: list[Any]
    if operator in LIST_OPERATORS:
        if not isinstance(value, list) or not value:
            raise ValidationError({"value": "'in' takes a non-empty list."})
        values = value
    else:
        values = [value]
    target = field.target_field if isinstance(field, RelatedField) else field
    for item in values:
        if _is_user_token(item):
            continue
        if isinstance(item, str) and item.startswith("$"):
            raise ValidationError(
                {
                    "value": f"Unknown placeholder {item!r}; use $user or $user.{{{','.join(USER_ATTRIBUTES)}}}."
                }
            )
        if item is None or isinstance(item, (dict, list)):
            raise ValidationError({"value": "Give a plain value (text, number or true/false)."})
        try:
            target.clean(target.to_python(item), None)
        except ValidationError as exc:
            raise ValidationError(
                {"value": f"{item!r} is not valid for {name}: {' '.join(exc.messages)}"}
            ) from None


def _resolve_value(value: Any, user: Any) -> Any:
    if isinstance(value, list):
        return [_resolve_value(v, user) for v in value]
    if not _is_user_token(value):
        return value
    attribute = value[len(USER_TOKEN) + 1 :] or "pk"
    return getattr(user, attribute, None) if user is not None else None


def condition_q(model: type[models.Model], condition: dict[str, Any], user: Any) -> Q:
    """The ``Q`` selecting the rows of ``model`` that satisfy ``condition`` for ``user``."""
    field = _resolve_field(model, condition["field"])
    operator = condition["operator"]
    value = _resolve_value(condition.get("value"), user)
    if operator == FilterOperator.NE:
        # ~Q on a nullable column keeps NULL rows: "not equal to X" includes "empty".
        return ~Q(**{field.attname: value})
    lookup = "exact" if operator == FilterOperator.EXACT else operator
    if value is None and lookup == "exact":
        return Q(**{f"{field.attname}__isnull": True})
    return Q(**{f"{field.attname}__{lookup}": value})


def resolved(condition: dict[str, Any], user: Any) -> dict[str, Any]:
    """The condition with its placeholders replaced: what a pull cursor fingerprints."""
    return {**condition, "value": _resolve_value(condition.get("value"), user)}
