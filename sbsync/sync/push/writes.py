"""The write phase of a push: rows in bulk, every one checked to stay inside the caller's view.

Creates are one ``bulk_create`` per model. Updates are one ``UPDATE … FROM`` per model setting only the
columns the records sent (``_update_sent``), or, when the records of a model sent different fields, one
upsert (``bulk_create(update_conflicts=True)``) on full rows: the locked current row with the sent
fields applied. Never ``bulk_update``: it builds a CASE per field and row and is about 20 times slower
(measured with ``sync_benchmark``: the CASE grows with rows times fields).

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
from collections.abc import Set
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, models, transaction
from django.db.models import DO_NOTHING, Exists, F, OuterRef, ProtectedError, RestrictedError
from django.db.models.deletion import get_candidate_relations_to_delete
from django.db.models.fields import AutoFieldMixin
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone
from simple_history.models import HistoricalRecords

from sbsync import discovery
from sbsync.access import Access
from sbsync.rows import insert_values
from sbsync.sync.changes import tracking
from sbsync.sync.changes.index import RowChange, batched, pk_key
from sbsync.sync.push.history import deferred_history, history_user
from sbsync.sync.push.items import UPDATE, Create, Delete, Read, Update, Write, reject_dependents
from sbsync.sync.push.locks import check_deferred_constraints
from sbsync.sync.push.sql import AnyOf, array_literal, array_type, in_values
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
            _write_each(pending, access.user)
        else:
            _write_bulk(pending, access.user)
        _reject_outside_view(access, [w for w in pending if w.item.open])
        reject_dependents([w.item for w in pending])
        if not all(w.item.open for w in pending):
            transaction.set_rollback(True)
            return False
        if _sets_foreign_key(pending):
            check_deferred_constraints()
    return True


def _sets_foreign_key(writes: list[Write]) -> bool:
    """Whether any of ``writes`` writes a foreign key the database checks at commit: a create's non-null
    one, an update's changed one. The tenant's is left out: apply_push locks the organization row
    against deletion (``lock_row_keys``), so it cannot fail."""
    relations: dict[type[models.Model], list[str]] = {}
    for w in writes:
        if w.model not in relations:
            tenant = discovery.tenant_field(w.model)
            relations[w.model] = [
                f.attname for f in w.model._meta.concrete_fields if f.is_relation and f is not tenant
            ]
        for attname in relations[w.model]:
            if isinstance(w, Update):
                if attname in w.before and w.before[attname] != getattr(w.instance, attname):
                    return True
            elif getattr(w.instance, attname) is not None:
                return True
    return False


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


def _write(model: type[models.Model], creates: list[Write], updates: list[Write], user: Any) -> None:
    """Write ``creates`` and ``updates`` of ``model``; where the statement also wrote their history
    (``_history_of_written``), mark them so ``write_history`` does not write it again."""
    manager = model._base_manager
    for w in [*creates, *updates]:
        w.history_written = False
    if creates and not _insert_rows(model, creates, user):
        manager.bulk_create([w.instance for w in creates])
    if updates and not _update_sent(model, updates, user):
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


def _insert_rows(model: type[models.Model], creates: list[Write], user: Any) -> bool:
    """Insert the rows of ``creates`` with one statement written here instead of ``bulk_create``, whose
    compiler builds a placeholder per value (a quarter of the time of a push of 500 creates): on
    PostgreSQL ``INSERT … SELECT FROM UNNEST(…)`` with a parameter per column (``array_literal``), on
    SQLite ``INSERT … VALUES`` (chunked to its parameter limit). The rows are what ``bulk_create``
    writes (each field's ``pre_save`` with ``add``, no signals); on PostgreSQL keys the database
    assigns are set on the instances in the order of the rows, as ``bulk_create`` does. False, writing
    nothing, on other databases, when some rows have a key and others not, when keys are to be
    assigned on SQLite, or when a column cannot be passed this way (the caller uses ``bulk_create``).
    On PostgreSQL, rows with keys given get their history in the same statement (``_history_of_written``)."""
    connection = transaction.get_connection()
    meta = model._meta
    objs = [w.instance for w in creates]
    server_keys = {obj.pk is None for obj in objs}
    assigned = True in server_keys
    postgresql = connection.vendor == "postgresql"
    if len(server_keys) > 1 or (assigned and not (postgresql and isinstance(meta.pk, AutoFieldMixin))):
        return False
    fields = [f for f in meta.concrete_fields if not f.generated and not (assigned and f is meta.pk)]
    if postgresql:
        writable = _arrayable(fields, connection)
    else:
        writable = connection.vendor == "sqlite" and not any(hasattr(f, "get_placeholder") for f in fields)
    if not writable:
        return False
    rows = [insert_values(obj, fields, connection) for obj in objs]
    quote = connection.ops.quote_name
    insert = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
    keys: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if postgresql:
            sql = f"{insert} SELECT * FROM UNNEST({', '.join(f'%s::{array_type(f, connection)}[]' for f in fields)})"
            params = [array_literal(list(column)) for column in zip(*rows, strict=True)]
            # Keys the database assigns come back in the order of the rows, which a history insert
            # over the returned rows would not keep: their history is written apart.
            history = None if assigned else _history_of_written(model, user, "+")
            if assigned:
                sql += f" RETURNING {quote(meta.pk.column)}"
            elif history is not None:
                sql = f"WITH written AS ({sql} RETURNING *) {history[0]}"
                params += history[1]
            cursor.execute(sql, params)
            keys = cursor.fetchall() if assigned else []
            for w in creates:
                w.history_written = history is not None
        else:
            per_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            for chunk in batched(rows, connection.features.max_query_params // len(fields)):
                cursor.execute(
                    f"{insert} VALUES {', '.join([per_row] * len(chunk))}",
                    [value for row in chunk for value in row],
                )
    for obj, key in zip(objs, keys, strict=False):
        obj.pk = meta.pk.to_python(key[0])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return True


def _arrayable(fields: list[models.Field[Any, Any]], connection: Any) -> bool:
    """Whether ``fields`` can each be passed as one array parameter on PostgreSQL: none needs its own
    placeholder (``get_placeholder``, a geometry say) and each has a plain column type."""
    types = connection.data_types
    return not any(
        hasattr(f, "get_placeholder") or getattr(f, "target_field", f).get_internal_type() not in types
        for f in fields
    )


def _update_sent(model: type[models.Model], updates: list[Write], user: Any) -> bool:
    """Write ``updates`` with one ``UPDATE … FROM`` that sets only the columns the records sent (and
    ``auto_now`` timestamps), when they all sent the same fields: far less to prepare and write than
    full rows. False, writing nothing, when they did not, or a column cannot be passed as a plain
    array or value list (the caller then upserts full rows). On PostgreSQL the rows' history is written
    by the same statement (``_history_of_written``)."""
    sent = {frozenset(w.item.values) for w in updates}
    if len(sent) != 1:
        return False
    connection = transaction.get_connection()
    meta = model._meta
    fields = _updated_fields(model, next(iter(sent)))
    if fields is None:
        return False
    # auto_now timestamps: one moment for the statement, as one UPDATE of all the rows would have; set
    # by one parameter each, not a column of values.
    stamped = {f: f.pre_save(updates[0].instance, False) for f in fields if getattr(f, "auto_now", False)}
    for w in updates:
        for f, value in stamped.items():
            setattr(w.instance, f.attname, value)
    columns = [meta.pk, *(f for f in fields if f not in stamped)]
    rows = [
        [f.get_db_prep_save(getattr(w.instance, f.attname), connection) for f in columns] for w in updates
    ]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    stamps = [f"{quote(f.column)} = %s" for f in stamped]
    stamp_params = [f.get_db_prep_save(value, connection) for f, value in stamped.items()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = ", ".join(f"%s::{array_type(f, connection)}[]" for f in columns)
            names = ", ".join(f"c{i}" for i in range(len(columns)))
            assignments = [f"{quote(f.column)} = v.c{i}" for i, f in enumerate(columns) if i]
            sql = (
                f"UPDATE {table} SET {', '.join(assignments + stamps)} FROM UNNEST({types}) AS v({names}) "
                f"WHERE {table}.{quote(meta.pk.column)} = v.c0"
            )
            params = [*stamp_params, *(array_literal(list(column)) for column in zip(*rows, strict=True))]
            history = _history_of_written(model, user, "~")
            if history is not None:
                sql = f"WITH written AS ({sql} RETURNING {table}.*) {history[0]}"
                params += history[1]
            cursor.execute(sql, params)
            for w in updates:
                w.history_written = history is not None
        else:
            assignments = [f"{quote(f.column)} = v.column{i + 1}" for i, f in enumerate(columns) if i]
            per_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
            for chunk in batched(rows, connection.features.max_query_params // len(columns) - len(stamps)):
                cursor.execute(
                    f"UPDATE {table} SET {', '.join(assignments + stamps)} "
                    f"FROM (VALUES {', '.join([per_row] * len(chunk))}) AS v "
                    f"WHERE {table}.{quote(meta.pk.column)} = v.column1",
                    [*stamp_params, *(value for row in chunk for value in row)],
                )
    return True


def _updated_fields(model: type[models.Model], attnames: Set[str]) -> list[models.Field[Any, Any]] | None:
    """The columns ``_update_sent`` sets for records that sent ``attnames``, or None when it cannot
    (a column that needs its own placeholder or has no plain array type, an old SQLite)."""
    connection = transaction.get_connection()
    meta = model._meta
    fields = [
        f
        for f in meta.concrete_fields
        if f.attname in attnames or (getattr(f, "auto_now", False) and not f.primary_key)
    ]
    columns = [meta.pk, *fields]
    if connection.vendor == "postgresql":
        if not _arrayable(columns, connection):
            return None
    elif (
        any(hasattr(f, "get_placeholder") for f in columns)
        or connection.vendor != "sqlite"
        or connection.Database.sqlite_version_info < (3, 33)
    ):
        return None
    return fields


def updates_in_place(model: type[models.Model], attnames: Set[str]) -> bool:
    """Whether updates that sent ``attnames`` are written without reading the other fields."""
    return _updated_fields(model, attnames) is not None


def _write_bulk(writes: list[Write], user: Any) -> None:
    for model, creates, updates in _grouped(writes):
        _write(model, creates, updates, user)


def _write_each(writes: list[Write], user: Any) -> None:
    for model, creates, updates in _grouped(writes):
        for w in [*creates, *updates]:
            lost = [key for maker, key in w.item.depends if not maker.open]
            if lost:
                w.item.reject({lost[0]: [NO_SUCH_ROW]})
                continue
            try:
                with transaction.atomic():
                    _write(
                        model,
                        [w] if isinstance(w, Create) else [],
                        [] if isinstance(w, Create) else [w],
                        user,
                    )
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
            if w.key not in visible:
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
            object_pk=w.key,
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
    """One history insert per model for its creates and updates whose history the writing statement did
    not write already (``_history_of_written``), attributed to ``user``: the rows just written copied by
    the database (``insert_history``), or simple-history's ``bulk_history_create`` for history models it
    cannot copy."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    groups: dict[type[models.Model], list[Write]] = defaultdict(list)
    for w in written:
        if not w.history_written:
            groups[w.model].append(w)
    for model, group in groups.items():
        manager = history_manager(model)
        if manager is None:
            continue
        updated = [w.instance.pk for w in group if w.action == UPDATE]
        pks = [w.instance.pk for w in group]
        if insert_history(model, manager.model, user, pks, updated=updated) is not None:
            continue
        for update in (False, True):
            objs = [w.instance for w in group if (w.action == UPDATE) is update]
            if objs:
                manager.bulk_history_create(objs, update=update, default_user=user)


def insert_history(
    model: type[models.Model],
    history: type[models.Model],
    user: Any,
    pks: list[Any],
    *,
    updated: list[Any] | None = None,
    deletable: bool = False,
) -> list[Any] | None:
    """``INSERT INTO <history> SELECT <tracked columns>, <when, who, type> FROM <table> WHERE pk IN
    (...)``: the history rows of rows written (type ``+``, or ``~`` for the ``updated`` keys), or with
    ``deletable`` of rows about to be deleted (type ``-``) that no other row depends on
    (``_deletable``); without a model instance per row. Returns the keys whose rows were copied (only
    with ``deletable``: an empty list otherwise). They are the rows simple-history would make (same
    columns, type, user, empty change reason), read through its API as any other. None, inserting
    nothing, when the history model has columns this cannot fill (a custom history id, extra fields)."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    pk = model._meta.pk
    table = quote(model._meta.db_table)
    key = f"{table}.{quote(pk.column)}"
    copy = _history_columns(model, history, user, table)
    if copy is None:
        return None
    columns, selected = copy
    copied_key = history._meta.get_field(pk.name)  # the history's copy of the key
    assert isinstance(copied_key, models.Field)
    returning = f" RETURNING {quote(copied_key.column)}" if deletable else ""
    changed = set(updated or ())
    copied: list[Any] = []
    with connection.cursor() as cursor:
        for chunk in batched(pks, CHUNK):
            if deletable:
                kind: tuple[str, list[Any]] = ("'-'", [])
                where, where_params = _deletable(model, chunk)
            else:
                modified = [v for v in chunk if v in changed]
                if len(modified) in (0, len(chunk)):  # all creates or all updates: no list to test
                    kind = ("'~'" if modified else "'+'", [])
                else:
                    test, test_params = in_values(key, pk, modified, connection)
                    kind = (f"CASE WHEN {test} THEN '~' ELSE '+' END", test_params)
                where, where_params = in_values(key, pk, chunk, connection)
            parts = [kind if sql == TYPE else (sql, params) for sql, params in selected]
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(columns)}) "
                f"SELECT {', '.join(sql for sql, _ in parts)} FROM {table} WHERE {where}{returning}",
                [*(p for _, params in parts for p in params), *where_params],
            )
            if deletable:
                copied += [row[0] for row in cursor.fetchall()]
    return copied


def _history_columns(
    model: type[models.Model], history: type[models.Model], user: Any, source: str
) -> tuple[list[str], list[tuple[str, list[Any]]]] | None:
    """The columns of ``history`` and, for each, the SQL (and parameters) that fills it from a row of
    ``model`` named ``source`` (its table, or the rows a statement returned): the tracked fields copied,
    when and by whom, an empty change reason; ``TYPE`` stands for the history type. None when the
    history model has columns this cannot fill (a custom history id, extra fields)."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    meta = history._meta
    if not isinstance(meta.pk, AutoFieldMixin):
        return None
    given: dict[str, Any] = {
        "history_date": timezone.now(),
        "history_change_reason": "",
        "history_user": user.pk if user is not None and user.pk is not None else None,
    }
    tracked = {f.name: f for f in history.tracked_fields}
    columns: list[str] = []
    selected: list[tuple[str, list[Any]]] = []
    for field in meta.concrete_fields:
        if field is meta.pk:
            continue
        columns.append(quote(field.column))
        if field.name in tracked:
            selected.append((f"{source}.{quote(tracked[field.name].column)}", []))
        elif field.name == "history_relation":
            selected.append((f"{source}.{quote(model._meta.pk.column)}", []))
        elif field.name == "history_type":
            selected.append((TYPE, []))
        elif field.name in given:
            selected.append(("%s", [field.get_db_prep_save(given[field.name], connection)]))
        else:
            return None
    return columns, selected


def _history_of_written(model: type[models.Model], user: Any, kind: str) -> tuple[str, list[Any]] | None:
    """On PostgreSQL, the history of the rows a statement writes in the same statement: the statement
    becomes ``WITH written AS (<it> RETURNING *) <this>``, an ``INSERT … SELECT`` of type ``kind``
    (``+`` or ``~``) from the rows it returned, so history costs no second read of the rows by key and
    no statement of its own. None when history is off, the model has none, or ``write_history`` must
    write it (simple-history's ``bulk_history_create`` for history models the database cannot fill)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return None
    manager = history_manager(model)
    if manager is None:
        return None
    copy = _history_columns(model, manager.model, user, "written")
    if copy is None:
        return None
    columns, selected = copy
    parts = [(f"'{kind}'", []) if sql == TYPE else (sql, params) for sql, params in selected]
    return (
        f"INSERT INTO {transaction.get_connection().ops.quote_name(manager.model._meta.db_table)} "
        f"({', '.join(columns)}) SELECT {', '.join(sql for sql, _ in parts)} FROM written",
        [p for _, params in parts for p in params],
    )


TYPE = "<history type>"
CHUNK = 1000


def delete_rows(access: Access, writes: list[Write], buffer: list[RowChange]) -> None:
    """Delete the rows of the open deletes in ``writes``, per model. Rows no other row depends on are
    deleted directly when nothing else listens to the model's deletes (``_delete_plain``); the others
    through Django's collector, so cascades happen and their post_delete signals put tombstones in
    ``buffer`` and history rows in place (inserted in bulk, sync/push/history.py). A row that others
    protect is rejected; the rest are deleted."""
    by_model: dict[type[models.Model], list[Read]] = defaultdict(list)
    for w in writes:
        if w.item.open and isinstance(w, Delete):
            by_model[w.model].append(w.item)
    for model, group in by_model.items():
        if plain_deletes(model):
            gone = _delete_plain(access, model, [i.pk for i in group], buffer)
            group = [i for i in group if i.key not in gone]
        if not group or _delete(access, model, group, buffer):
            continue
        for item in group:
            if not _delete(access, model, [item], buffer):
                item.reject({"_deleted": [IN_USE]})


def _delete_plain(
    access: Access, model: type[models.Model], pks: list[Any], buffer: list[RowChange]
) -> set[str]:
    """Delete the rows of ``pks`` that no row depends on (``_deletable``) with one DELETE, after their
    history rows (attributed to the pushing user, copied by the database); enter their tombstones in
    ``buffer``. Returns the keys deleted. The rows are locked (``_look_up``), so no dependent can appear
    before the push commits, and the delete cannot fail on a foreign key."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    pk = model._meta.pk
    table, key = quote(model._meta.db_table), f"{quote(model._meta.db_table)}.{quote(pk.column)}"
    manager = history_manager(model) if getattr(settings, "SIMPLE_HISTORY_ENABLED", True) else None
    doomed: list[Any] = pks
    if manager is not None:
        copied = insert_history(model, manager.model, access.user, pks, deletable=True)
        assert copied is not None  # plain_deletes() checked the history model
        doomed = copied
    gone: list[Any] = []
    with connection.cursor() as cursor:
        for chunk in batched(doomed, CHUNK):
            if manager is not None:
                where, params = in_values(key, pk, chunk, connection)
            else:
                where, params = _deletable(model, chunk)
            cursor.execute(f"DELETE FROM {table} WHERE {where} RETURNING {key}", params)
            gone += [row[0] for row in cursor.fetchall()]
    keys = {pk_key(model, value) for value in gone}
    scope = access.scope(model)
    buffer.extend(
        RowChange(model_label=model._meta.label, object_pk=k, scope=scope, deleted=True, tenant=False)
        for k in sorted(keys)
    )
    return keys


def _deletable(model: type[models.Model], pks: list[Any]) -> tuple[str, list[Any]]:
    """SQL condition (and parameters) on ``model``'s table: the row is one of ``pks`` and no row of
    another table points at it through a relation Django's collector would follow (cascade, protect,
    set null...) or the database would enforce."""
    pk = model._meta.pk
    rows = model._base_manager.filter(AnyOf(F("pk"), pks)).order_by()
    for relation in dependent_relations(model):
        field = relation.field
        rows = rows.exclude(
            Exists(
                relation.related_model._base_manager.filter(
                    **{field.attname: OuterRef(field.target_field.attname)}
                )
            )
        )
    connection = transaction.get_connection()
    sql, params = rows.values("pk").query.get_compiler(connection=connection).as_sql()
    column = f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name(pk.column)}"
    return f"{column} IN ({sql})", list(params)


def dependent_relations(model: type[models.Model]) -> list[models.ForeignObjectRel]:
    """The reverse relations whose rows would stop a plain delete of a ``model`` row: those the
    collector follows, and those with nothing to do (``DO_NOTHING``) whose constraint the database
    enforces. History tables' relations (no constraint) are left out."""
    relations: list[models.ForeignObjectRel] = list(get_candidate_relations_to_delete(model._meta))  # type: ignore[arg-type]
    return [r for r in relations if r.on_delete is not DO_NOTHING or getattr(r.field, "db_constraint", True)]


def plain_deletes(model: type[models.Model]) -> bool:
    """Whether rows of ``model`` nothing depends on may be deleted without the collector: what listens
    to its deletes is only the change index (``tracking``) and simple-history's own handlers (history
    rows this module copies), and no generic relations hang on it. Anything else (a receiver of the
    host, cascading history deletion, many-to-many history) keeps the collector, whose signals it needs."""
    connection = transaction.get_connection()
    if not connection.features.can_return_rows_from_bulk_insert:
        return False
    if any(hasattr(f, "bulk_related_objects") for f in model._meta.private_fields):
        return False
    manager = history_manager(model)
    if manager is not None and (
        getattr(manager.model, "_history_m2m_fields", None) or not _copyable(model, manager.model)
    ):
        return False
    for signal in (pre_delete, post_delete):
        sync_receivers, async_receivers = signal._live_receivers(model)
        for receiver in [*sync_receivers, *async_receivers]:
            owner = getattr(receiver, "__self__", None)
            if isinstance(owner, HistoricalRecords) and not owner.cascade_delete_history:
                continue
            if receiver not in tracking.DELETE_RECEIVERS:
                return False
    return True


def history_copyable(model: type[models.Model]) -> bool:
    """Whether the history of ``model``'s pushed rows is written without model instances: history is
    off, the model has none, or ``insert_history`` can fill every column of its history model."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return True
    manager = history_manager(model)
    return manager is None or _copyable(model, manager.model)


def _copyable(model: type[models.Model], history: Any) -> bool:
    """Whether ``insert_history`` can fill every column of ``history``."""
    fillable = {f.name for f in history.tracked_fields} | {
        "history_relation",
        "history_type",
        "history_date",
        "history_change_reason",
        "history_user",
    }
    meta = history._meta
    return isinstance(meta.pk, AutoFieldMixin) and all(
        f.name in fillable for f in meta.concrete_fields if f is not meta.pk
    )


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
