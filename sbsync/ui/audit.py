"""The audit trail of sbsync's configuration: the simple-history records of organizations, memberships,
permissions, data filters, the discovery settings and API tokens (issued, revoked), as one list newest first, with field-level
changes (before → after) computed against each record's previous record.

The list is a UNION of the history tables (one query per page), and the changes of a page are read in
a constant number of queries: per model, the page's records with the id of their previous record
(a subquery), the previous records, and the names of the users, organizations and groups they mention.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.text import capfirst
from simple_history.utils import get_history_model_for_model

from sbsync.models import (
    DataFilter,
    DiscoveryConfig,
    Membership,
    ModelPermission,
    Organization,
    ServiceToken,
)

AUDITED: tuple[type[models.Model], ...] = (
    Organization,
    Membership,
    ModelPermission,
    DataFilter,
    DiscoveryConfig,
    ServiceToken,
)
KINDS: dict[str, type[models.Model]] = {model._meta.model_name: model for model in AUDITED}  # type: ignore[misc]
ROW_FIELDS = ("kind", "history_id", "id", "history_date", "history_type", "history_user__username")
SKIPPED_FIELDS = {"id", "created_at", "updated_at"}
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
CHUNK = 500


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Detail:
    label: str
    changes: list[Change]

    def as_text(self) -> str:
        return "; ".join(f"{c.field}: {c.before or '∅'} → {c.after or '∅'}" for c in self.changes)


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, capfirst(str(model._meta.verbose_name))) for kind, model in KINDS.items()]


def history_model(kind: str) -> type[models.Model]:
    model: type[models.Model] = get_history_model_for_model(KINDS[kind])
    return model


def history_querysets(user: Any) -> dict[str, QuerySet[Any]]:
    """The history of each audited model ``user`` may view (``view_<model>``), by kind."""
    return {
        kind: history_model(kind)._default_manager.all()
        for kind, model in KINDS.items()
        if user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
    }


def combine(parts: dict[str, QuerySet[Any]]) -> QuerySet[Any]:
    """One queryset of row dicts (ROW_FIELDS) over every part, newest first."""
    tagged: list[QuerySet[Any]] = [
        qs.annotate(kind=Value(kind, output_field=CharField())).values(*ROW_FIELDS).order_by()
        for kind, qs in parts.items()
    ]
    first, *rest = tagged
    return first.union(*rest, all=True).order_by("-history_date", "-history_id")


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields a diff shows: those the history keeps (a token's digest is not), bookkeeping aside."""
    kept = {f.name for f in get_history_model_for_model(model)._meta.concrete_fields}
    return [f for f in model._meta.concrete_fields if f.name in kept and f.name not in SKIPPED_FIELDS]


def _name_maps(records: Sequence[Any], fields: list[models.Field[Any, Any]]) -> dict[str, dict[Any, str]]:
    """For each foreign key among ``fields``: id → display name of the rows the records point at."""
    wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
    for f in fields:
        if f.is_relation and f.related_model is not None:
            wanted[f.related_model].update(
                getattr(r, f.attname) for r in records if getattr(r, f.attname) is not None
            )
    names: dict[type[models.Model], dict[Any, str]] = {}
    for related, ids in wanted.items():
        names[related] = {
            pk: _display(obj) for pk, obj in related._default_manager.in_bulk(list(ids)).items()
        }
    return {f.attname: names.get(f.related_model, {}) for f in fields if f.related_model is not None}


def _display(obj: models.Model) -> str:
    user_model = get_user_model()
    if isinstance(obj, user_model):
        return str(obj.get_username())
    if isinstance(obj, Group | Organization):
        return obj.name
    return str(obj)


def _value(record: Any, field: models.Field[Any, Any], names: dict[str, dict[Any, str]]) -> str:
    raw = getattr(record, field.attname)
    if raw is None:
        return ""
    if field.is_relation:
        return names[field.attname].get(raw, f"#{raw} (deleted)")
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, datetime):
        return f"{timezone.localtime(raw):%Y-%m-%d %H:%M}"
    if isinstance(raw, list):
        return ", ".join(map(str, raw))
    if isinstance(raw, dict):
        return json.dumps(raw, sort_keys=True, ensure_ascii=False)
    return str(raw)


def _label(kind: str, record: Any, names: dict[str, dict[Any, str]]) -> str:
    def name(attname: str) -> str:
        value = getattr(record, attname)
        return names[attname].get(value, f"#{value}") if value is not None else "–"

    if kind == "organization":
        return str(record.name)
    if kind == "membership":
        return f"{name('user_id')} in {name('organization_id')}"
    if kind == "modelpermission":
        return f"{name('group_id')}: {record.model_label} in {name('organization_id')}"
    if kind == "datafilter":
        return f"{record.name} ({record.model_label}, {name('group_id')}, {name('organization_id')})"
    if kind == "servicetoken":
        return f"“{record.name}” ({record.token_key}…) for {name('user_id')}"
    return "Model discovery settings"


def _previous(history: type[models.Model]) -> Subquery:
    earlier = Q(history_date__lt=OuterRef("history_date")) | Q(
        history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id")
    )
    return Subquery(
        history._default_manager.filter(earlier, id=OuterRef("id"))
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )


def describe(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, int], Detail]:
    """The label and field changes of each row of ``combine``, keyed by (kind, history_id)."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        wanted[row["kind"]].append(row["history_id"])
    result: dict[tuple[str, int], Detail] = {}
    for kind, ids in wanted.items():
        history = history_model(kind)
        fields = _fields(KINDS[kind])
        for start in range(0, len(ids), CHUNK):
            records: list[Any] = list(
                history._default_manager.filter(history_id__in=ids[start : start + CHUNK]).annotate(
                    previous_id=_previous(history)
                )
            )
            previous: dict[Any, Any] = history._default_manager.in_bulk(
                [r.previous_id for r in records if r.previous_id]
            )
            names = _name_maps([*records, *previous.values()], fields)
            for record in records:
                before = previous.get(record.previous_id)
                result[(kind, record.history_id)] = Detail(
                    label=_label(kind, record, names), changes=_changes(record, before, fields, names)
                )
    return result


def _changes(
    record: Any, before: Any, fields: list[models.Field[Any, Any]], names: dict[str, dict[Any, str]]
) -> list[Change]:
    changes = []
    for f in fields:
        name = str(f.verbose_name)
        after_value = _value(record, f, names)
        if record.history_type == "-":
            # A deleted record's history row holds its last values: show them as what was removed.
            if after_value:
                changes.append(Change(name, after_value, ""))
            continue
        before_value = _value(before, f, names) if before is not None else ""
        if record.history_type == "+" and before is None:
            if after_value:
                changes.append(Change(name, "", after_value))
        elif after_value != before_value:
            changes.append(Change(name, before_value, after_value))
    return changes
