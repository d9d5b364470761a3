"""The write phase of a push: rows in bulk, every one checked to stay inside the caller's view.

Creates are one ``bulk_create`` per model; updates one upsert per model
(``bulk_create(update_conflicts=True)`` on full rows: the locked current row with the sent fields
applied), because ``bulk_update`` builds a CASE per field and row and is about 20 times slower (measured
with ``sync_benchmark``: the CASE grows with rows times fields).

Why the row filter is checked after writing: a DataFilter condition (``assigned_manager = $user``,
``department icontains 'sales'``) means what the database says it means, and Python would disagree on
collations, case folding and NULLs between SQLite and PostgreSQL. So the batch is written inside a
savepoint and read back through ``Access.rows`` (one query per model with conditions). Records that left
the view, and records pointing at an in-batch create that failed, are taken out, the savepoint is rolled
back and the rest is written again. The predicates are per row, so this settles in two passes.

Validation runs before the write, so the database should refuse nothing; if it does anyway (a
constraint with a condition, a row deleted under a deferred foreign key), the batch is written again one
record at a time, each in its own savepoint, and the refused ones are rejected instead of failing the push.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from sbsync import discovery
from sbsync.access import Access
from sbsync.sync.changes.index import RowChange, batched, pk_key
from sbsync.sync.push.history import deferred_history, history_user
from sbsync.sync.push.items import UPDATE, Create, Delete, Read, Write, reject_dependents
from sbsync.sync.push.locks import check_deferred_constraints
from sbsync.sync.push.validation import NO_SUCH_ROW, NON_FIELD

OUTSIDE_VIEW = "After this change the row would be outside the rows you may see."
REFUSED = "The database refused this record."
IN_USE = "Other rows depend on this row, so it cannot be deleted."


def write_rows(access: Access, writes: list[Write]) -> list[Write]:
    """Create and update the rows of the open creates and updates in ``writes``; reject those that
    cannot be written. Returns the writes done (phase 3, written)."""
    pending = [w for w in writes if w.item.open and not isinstance(w, Delete)]
    one_by_one = False
    while pending:
        try:
            if _write_pass(access, pending, one_by_one=one_by_one):
                return pending
        except (IntegrityError, DataError):
            if one_by_one:
                raise
            one_by_one = True
        pending = [w for w in pending if w.item.open]
        _forget_server_keys(pending)
    return []


def _write_pass(access: Access, pending: list[Write], *, one_by_one: bool) -> bool:
    """Write ``pending`` in a savepoint. False when some records failed after the write (outside the
    view, or pointing at a failed create): the savepoint is rolled back, to write the others again."""
    with transaction.atomic():
        if one_by_one:
            _write_each(pending)
        else:
            _write_bulk(pending)
        _reject_outside_view(access, [w for w in pending if w.item.open])
        reject_dependents([w.item for w in pending])
        if not all(w.item.open for w in pending):
            transaction.set_rollback(True)
            return False
        check_deferred_constraints()
    return True


def _model_order(writes: list[Write]) -> list[type[models.Model]]:
    """The models of ``writes``, each after the models its foreign keys point to (cycles: any order)."""
    present = list(dict.fromkeys(w.model for w in writes))
    ordered: list[type[models.Model]] = []

    def visit(model: type[models.Model], path: set[type[models.Model]]) -> None:
        if model in ordered or model in path:
            return
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model in present and f.related_model is not model:
                visit(f.related_model, path | {model})
        ordered.append(model)

    for model in present:
        visit(model, set())
    return ordered


def _grouped(writes: list[Write]) -> list[tuple[type[models.Model], list[Write], list[Write]]]:
    creates: dict[type[models.Model], list[Write]] = defaultdict(list)
    updates: dict[type[models.Model], list[Write]] = defaultdict(list)
    for w in writes:
        (creates if isinstance(w, Create) else updates)[w.model].append(w)
    return [(model, creates[model], updates[model]) for model in _model_order(writes)]


def update_fields(model: type[models.Model]) -> list[str]:
    """The columns an upsert writes: what clients may write, plus ``auto_now`` timestamps. The tenant
    field, ``auto_now_add`` and other server-owned columns keep their stored values."""
    read_only = discovery.read_only_fields(model)
    return [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key
        and not f.generated
        and (f.name not in read_only or getattr(f, "auto_now", False))
        and not getattr(f, "auto_now_add", False)
    ]


def _write(model: type[models.Model], creates: list[Write], updates: list[Write]) -> None:
    manager = model._base_manager
    if creates:
        manager.bulk_create([w.instance for w in creates])
    if updates:
        objs = [w.instance for w in updates]
        # bulk_create runs pre_save(add=True), which would stamp auto_now_add fields on the instances we
        # keep for history and results; the database keeps the stored values (not in update_fields).
        kept = [f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now_add", False)]
        stored = [{a: getattr(obj, a) for a in kept} for obj in objs]
        manager.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=[model._meta.pk.name],
            update_fields=update_fields(model),
        )
        for obj, values in zip(objs, stored, strict=True):
            for attname, value in values.items():
                setattr(obj, attname, value)


def _write_bulk(writes: list[Write]) -> None:
    for model, creates, updates in _grouped(writes):
        _write(model, creates, updates)


def _write_each(writes: list[Write]) -> None:
    for model, creates, updates in _grouped(writes):
        for w in [*creates, *updates]:
            lost = [key for maker, key in w.item.depends if not maker.open]
            if lost:
                w.item.reject({lost[0]: [NO_SUCH_ROW]})
                continue
            try:
                with transaction.atomic():
                    _write(model, [w] if isinstance(w, Create) else [], [] if isinstance(w, Create) else [w])
                    check_deferred_constraints()
            except (IntegrityError, DataError):
                w.item.reject({NON_FIELD: [REFUSED]})


def _reject_outside_view(access: Access, writes: list[Write]) -> None:
    """Reject the written rows the caller could no longer see: one query per model that has row filters."""
    by_model: dict[type[models.Model], list[Write]] = defaultdict(list)
    for w in writes:
        if access.conditions(w.model):
            by_model[w.model].append(w)
    for model, group in by_model.items():
        pks = [w.instance.pk for w in group]
        visible = {
            pk_key(model, pk) for pk in access.rows(model).filter(pk__in=pks).values_list("pk", flat=True)
        }
        for w in group:
            if pk_key(model, w.instance.pk) not in visible:
                w.item.reject({NON_FIELD: [OUTSIDE_VIEW]})


def _forget_server_keys(writes: list[Write]) -> None:
    """After a rolled-back pass, server-assigned keys of creates point at nothing: assign them anew."""
    for w in writes:
        if isinstance(w, Create) and not w.item.pk_given and isinstance(w.model._meta.pk, AutoFieldMixin):
            w.instance.pk = None
            w.instance._state.adding = True


def record_written(access: Access, written: list[Write], buffer: list[RowChange]) -> None:
    """Enter created and updated rows in the change buffer (pushed rows never change organization)."""
    buffer.extend(
        RowChange(
            model_label=w.item.label,
            object_pk=pk_key(w.model, w.instance.pk),
            scope=access.scope(w.model),
            deleted=False,
            tenant=False,
        )
        for w in written
    )


def history_manager(model: type[models.Model]) -> Any:
    name = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, name) if name else None


def write_history(user: Any, written: list[Write]) -> None:
    """One history insert per model and operation, attributed to ``user``: the rows just written copied
    by the database (``insert_history``), or simple-history's ``bulk_history_create`` for history models
    it cannot copy."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    groups: dict[tuple[type[models.Model], str], list[models.Model]] = defaultdict(list)
    for w in written:
        groups[(w.model, w.action)].append(w.instance)
    for (model, action), objs in groups.items():
        manager = history_manager(model)
        if manager is None:
            continue
        if not insert_history(model, manager.model, user, [obj.pk for obj in objs], update=action == UPDATE):
            manager.bulk_history_create(objs, update=action == UPDATE, default_user=user)


def insert_history(
    model: type[models.Model], history: type[models.Model], user: Any, pks: list[Any], *, update: bool
) -> bool:
    """``INSERT INTO <history> SELECT <tracked columns>, <when, who, +/~> FROM <table> WHERE pk IN
    (...)``: the history rows of rows just written, without a model instance per row. They are the rows
    simple-history's ``bulk_history_create`` would make (same columns, type, user, empty change reason),
    read through its API as any other. False, inserting nothing, when the history model has columns this
    cannot fill (a custom history id, extra fields): the caller lets simple-history build the rows."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    meta = history._meta
    if not isinstance(meta.pk, AutoFieldMixin):
        return False
    now = timezone.now()
    given: dict[str, Any] = {
        "history_date": now,
        "history_type": "~" if update else "+",
        "history_change_reason": "",
        "history_user": user.pk if user is not None and user.pk is not None else None,
    }
    columns: list[str] = []
    selected: list[str] = []
    params: list[Any] = []
    tracked = {f.name: f for f in history.tracked_fields}
    for field in meta.concrete_fields:
        if field is meta.pk:
            continue
        columns.append(quote(field.column))
        if field.name in tracked:
            selected.append(quote(tracked[field.name].column))
        elif field.name == "history_relation":
            selected.append(quote(model._meta.pk.column))
        elif field.name in given:
            selected.append("%s")
            params.append(field.get_db_prep_save(given[field.name], connection))
        else:
            return False
    pk = model._meta.pk
    with connection.cursor() as cursor:
        for chunk in batched(pks, 1000):
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
                f"SELECT {', '.join(selected)} FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(pk.column)} IN ({', '.join(['%s'] * len(chunk))})",
                [*params, *(pk.get_db_prep_value(value, connection) for value in chunk)],
            )
    return True


def delete_rows(access: Access, writes: list[Write], buffer: list[RowChange]) -> None:
    """Delete the rows of the open deletes in ``writes`` through Django's collector, per model, so
    cascades happen and their post_delete signals put tombstones in ``buffer`` and history rows in place
    (inserted in bulk, sync/push/history.py). A row that others protect is rejected; the rest are deleted."""
    by_model: dict[type[models.Model], list[Read]] = defaultdict(list)
    for w in writes:
        if w.item.open and isinstance(w, Delete):
            by_model[w.model].append(w.item)
    for model, group in by_model.items():
        if _delete(access, model, group, buffer):
            continue
        for item in group:
            if not _delete(access, model, [item], buffer):
                item.reject({"_deleted": [IN_USE]})


def _delete(access: Access, model: type[models.Model], items: list[Read], buffer: list[RowChange]) -> bool:
    mark = len(buffer)
    try:
        with transaction.atomic(), history_user(access.user), deferred_history():
            access.rows(model).filter(pk__in=[i.pk for i in items]).delete()
            check_deferred_constraints()
    except (ProtectedError, RestrictedError, IntegrityError):
        del buffer[mark:]
        return False
    return True
