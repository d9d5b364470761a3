"""History rows of a push's deletes: attributed to the pushing user, written in bulk.

Deletes of rows that others depend on go through Django's collector, so cascades, protections and
SET_NULL happen as everywhere else (rows nothing depends on are deleted directly, with their history
copied by the database: sync/push/writes.py), and simple-history's post_delete handler then saves one
history row per deleted row: one INSERT each.
Inside ``deferred_history()`` those rows are collected instead (from simple-history's documented
``pre_create_historical_record`` signal, which hands over the unsaved row) and inserted with one
``bulk_create`` per history model when the block ends, so a push of 500 deletes costs the queries of 50.

A row is only deferred when its history model tracks no many-to-many fields (those need the saved row at
once). ``post_create_historical_record`` receivers see the row before it is inserted.

simple-history's post_delete handler takes the user from the current request; ``history_user()`` gives it
one, so a push's deletes are attributed alike in requests and in Huey jobs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

_deferred: ContextVar[list[models.Model] | None] = ContextVar("sbsync_deferred_history", default=None)


def _inserted_later(*args: Any, **kwargs: Any) -> None:
    """Stands in for ``save()`` of a deferred history row: ``deferred_history`` inserts it."""


def _defer(sender: type[models.Model], history_instance: models.Model, **kwargs: Any) -> None:
    pending = _deferred.get()
    if pending is None or getattr(history_instance, "_history_m2m_fields", None):
        return
    # The instance's own attribute shadows the class's method (so this row alone is not saved).
    setattr(history_instance, "save", _inserted_later)  # noqa: B010
    pending.append(history_instance)


@contextmanager
def deferred_history() -> Iterator[None]:
    """Collect the history rows simple-history writes inside the block; insert them in bulk at its end.
    When the block raises, nothing is inserted (the caller's transaction rolls back its deletes too)."""
    token = _deferred.set([])
    try:
        yield
        by_model: dict[type[models.Model], list[models.Model]] = defaultdict(list)
        for row in _deferred.get() or []:
            by_model[type(row)].append(row)
        for model, rows in by_model.items():
            model._default_manager.bulk_create(rows)
    finally:
        _deferred.reset(token)


@contextmanager
def history_user(user: Any) -> Iterator[None]:
    """Attribute the history rows simple-history writes inside the block (cascaded deletes) to ``user``,
    in requests and in tasks alike: its post_delete handler reads the user from this context."""
    context = HistoricalRecords.context
    previous = getattr(context, "request", None)
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if previous is None:
            del context.request
        else:
            context.request = previous


def connect() -> None:
    pre_create_historical_record.connect(_defer, dispatch_uid="sbsync.history.defer")
