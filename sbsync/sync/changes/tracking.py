"""Record changes made outside push: saves and deletes in the admin, the shell or the host's own code.

This is the one place sbsync listens to signals: it is the only way to see writes it does not make.
Every candidate model (sbsync/discovery.py) is tracked, enabled right now or not, so a model enabled later
already has complete changes. Writes that send no signals (``QuerySet.update()``, ``bulk_create``) are
not seen: call ``sbsync.sync.changes.tracking.mark_changed(queryset)`` after them.

Deleting a row also changes the rows whose foreign keys point at it with ``on_delete=SET_NULL``,
``SET_DEFAULT`` or ``SET(...)``: Django's collector rewrites them with an UPDATE that sends no
``post_save``. So before a delete, the tracked rows that point at the doomed row that way are marked
changed; the stamping after commit then positions them with their new value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save, pre_delete

from sbsync import discovery
from sbsync.models import SHARED_SCOPE
from sbsync.sync.changes.index import RowChange, pk_key, record_changes


def change_for(model: type[models.Model], instance: models.Model, *, deleted: bool) -> RowChange:
    tenant = discovery.tenant_field(model)
    scope = getattr(instance, tenant.attname) if tenant is not None else SHARED_SCOPE
    return RowChange(
        model_label=model._meta.label,
        object_pk=pk_key(model, instance.pk),
        scope=scope,
        deleted=deleted,
        tenant=tenant is not None,
    )


def _on_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if discovery.is_candidate(sender):
        record_changes([change_for(sender, instance, deleted=False)])


def _on_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if discovery.is_candidate(sender):
        record_changes([change_for(sender, instance, deleted=True)])


@cache
def _nullified_by_delete(model: type[models.Model]) -> tuple[tuple[type[models.Model], str], ...]:
    """(tracked model, field name) of the foreign keys to ``model`` that a delete rewrites in place."""
    found = []
    for relation in model._meta.get_fields(include_hidden=True):
        if not isinstance(relation, models.ForeignObjectRel):
            continue
        if not (relation.auto_created and (relation.one_to_many or relation.one_to_one)) or relation.concrete:
            continue
        on_delete = getattr(relation, "on_delete", None)
        rewrites = on_delete in (models.SET_NULL, models.SET_DEFAULT) or hasattr(on_delete, "deconstruct")
        if rewrites and discovery.is_candidate(relation.related_model):
            found.append((relation.related_model, relation.field.name))
    return tuple(found)


def _on_pre_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    for model, field_name in _nullified_by_delete(sender):
        mark_changed(model._base_manager.filter(**{field_name: instance}))


def mark_changed(queryset: models.QuerySet[Any]) -> int:
    """Record every row of ``queryset`` as changed (after a bulk write that sent no signals)."""
    model = queryset.model
    tenant = discovery.tenant_field(model)
    fields = ["pk", tenant.attname] if tenant is not None else ["pk"]
    changes = [
        RowChange(
            model_label=model._meta.label,
            object_pk=pk_key(model, row[0]),
            scope=row[1] if tenant is not None else SHARED_SCOPE,
            deleted=False,
            tenant=tenant is not None,
        )
        for row in queryset.values_list(*fields)
    ]
    record_changes(changes)
    return len(changes)


# What listens to deletes here: a push that deletes rows itself enters their tombstones instead.
DELETE_RECEIVERS = (_on_delete, _on_pre_delete)


def connect() -> None:
    post_save.connect(_on_save, dispatch_uid="sbsync.tracking.save")
    post_delete.connect(_on_delete, dispatch_uid="sbsync.tracking.delete")
    pre_delete.connect(_on_pre_delete, dispatch_uid="sbsync.tracking.pre_delete")
