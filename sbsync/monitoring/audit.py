"""Audit trails (django-simple-history): which models keep one, initial records, status and retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Max
from simple_history.utils import get_app_model_primary_key_name, get_history_manager_for_model

from sbsync.sync.changes.index import batched

CHUNK = 1000
INITIAL_REASON = "Initial audit record (setup_audit_trails)"


@dataclass(frozen=True)
class HistoryStatus:
    label: str
    rows: int
    with_history: int
    records: int

    @property
    def without_history(self) -> int:
        return self.rows - self.with_history


def keeps_history(model: type[models.Model]) -> bool:
    """Whether ``model`` has a simple-history audit trail (``HistoricalRecords``)."""
    return hasattr(model._meta, "simple_history_manager_attribute")


def history_models() -> list[type[models.Model]]:
    """Every installed model that keeps a simple-history audit trail, by label."""
    return sorted(filter(keeps_history, apps.get_models()), key=lambda model: model._meta.label_lower)


def history_model_named(label: str) -> type[models.Model]:
    """The history-tracked model named ``label`` (``app_label.ModelName``, the model name in any case). Raises
    LookupError with a message naming the problem."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise LookupError(f"{label!r} is not an installed model (use app_label.ModelName).") from None
    if not keeps_history(model):
        raise LookupError(
            f"{model._meta.label} keeps no audit trail (it has no simple-history HistoricalRecords)."
        )
    return model


def _history(model: type[models.Model]) -> Any:
    return get_history_manager_for_model(model)


def _history_records(model: type[models.Model]) -> models.Manager[models.Model]:
    """Every history record of ``model``, of every row (the history model's manager)."""
    records: models.Manager[models.Model] = _history(model).model.objects
    return records


def _rows_with_history(model: type[models.Model]) -> models.QuerySet[Any]:
    return _history_records(model).values(get_app_model_primary_key_name(model))


def history_status(model: type[models.Model]) -> HistoryStatus:
    rows = model._base_manager.all()
    return HistoryStatus(
        label=model._meta.label,
        rows=rows.count(),
        with_history=rows.filter(pk__in=_rows_with_history(model)).count(),
        records=_history_records(model).count(),
    )


def create_initial_history(model: type[models.Model]) -> int:
    """Give every row of ``model`` that has no history record a "+" record of its current state, dated
    now, without a user. Rows that already have history are left alone, so running it again adds nothing.

    Side effects: inserts historical records. Returns the number created.
    """
    missing = list(model._base_manager.exclude(pk__in=_rows_with_history(model)).values_list("pk", flat=True))
    for chunk in batched(missing, CHUNK):
        _history(model).bulk_history_create(
            list(model._base_manager.filter(pk__in=chunk)), default_change_reason=INITIAL_REASON
        )
    return len(missing)


def delete_old_history(model: type[models.Model], *, before: datetime) -> int:
    """Delete history records of ``model`` dated before ``before``, except the latest record of each row
    that still exists, so every existing row keeps a record of its current state.

    Side effects: deletes historical records. Returns the number deleted.
    """
    history = _history_records(model)
    pk_name = get_app_model_primary_key_name(model)
    latest = (
        history.filter(**{f"{pk_name}__in": model._base_manager.values("pk")})
        .order_by()
        .values(pk_name)
        .annotate(last=Max("history_id"))
        .values("last")
    )
    deleted, _ = history.filter(history_date__lt=before).exclude(history_id__in=latest).delete()
    return deleted
