"""Push (sbsync/docs/protocol.md section 4): apply a batch of client records inside the caller's view.

A push runs in one transaction, with a fixed number of queries per model whatever the batch size:

1. Read every record without a query: model and ``can_push``, primary key, ``_version``, ``_deleted``,
   and each field converted by type (sync/push/validation.py).
2. Lock the batch's row keys (PostgreSQL advisory locks, sync/push/locks.py; the rest of the push is
   planned without sequential scans).
3. Per model (``_look_up``): load the batch's rows, locked, each with whether it lies inside the
   caller's view (``Access.rows``, decided by the database), and their versions (in the same
   statement on PostgreSQL); rows outside the view only say which client keys are taken. Decide each
   record: create, update, delete, unchanged, conflict, rejected or forbidden. A row of another
   organization and a row that does not exist answer alike.
4. Check in bulk: foreign keys (one query per field), unique values (one query per constraint).
5. Write (sync/push/writes.py): creates and updates in bulk (on PostgreSQL with their history, in the
   same statements), each row checked to still be inside the view; then deletes: directly for rows
   nothing depends on, through Django's collector for the others, so cascades leave tombstones.
6. Keep SyncMetadata current, then enter the changes in the change index (new versions for the
   results): last, because it locks the scope's clock until commit.

A dry run does all of it and rolls back; an atomic push rolls back when any record fails.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Value
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from sbsync import discovery
from sbsync.access import Access
from sbsync.enums import Action, RecordStatus
from sbsync.models import Membership, SyncRecord
from sbsync.sync.changes.index import collecting_changes, pk_key, write_changes, write_checkpoints
from sbsync.sync.counters import touch_organization
from sbsync.sync.push import validation as v
from sbsync.sync.push.items import (
    CREATE,
    DELETE,
    DONE_BY_ACTION,
    FAILURE,
    UPDATE,
    Create,
    Delete,
    Item,
    PushResult,
    Read,
    Update,
    Write,
    reject_dependents,
)
from sbsync.sync.push.locks import lock_row_keys
from sbsync.sync.push.sql import AnyOf, in_values
from sbsync.sync.push.writes import (
    delete_rows,
    history_copyable,
    record_written,
    updates_in_place,
    write_history,
    write_rows,
)
from sbsync.sync.records import instance_payload, row_key_text

FORBIDDEN_MODEL = "You may not push records of this model."
FORBIDDEN_ACTION = {
    CREATE: "You may not create records of this model.",
    UPDATE: "You may not update records of this model.",
    DELETE: "You may not delete records of this model.",
}
CONFLICT = "The row changed since the version you sent."
DUPLICATE = "This row appears more than once in this push."
INHERITED = "Push does not support multi-table inherited models."
DELETE_WITHOUT_PK = "Give the id of the row to delete."
PK_TWICE = "Give the primary key once."


def apply_push(
    *, access: Access, records: list[dict[str, Any]], atomic: bool = False, dry_run: bool = False
) -> PushResult:
    """Apply ``records`` (objects with a string ``_model``: sync/push/envelope.py checks that) as the member
    described by ``access``.

    Side effects, in one transaction (rolled back for a dry run, and for an atomic push with a failed
    record): rows created, updated and deleted, cascades included; history rows attributed to the user;
    change-index records with new versions, positioned in the change order (``write_changes``);
    SyncMetadata of each model written. Retried as a whole on a PostgreSQL deadlock by the caller that
    owns the transaction (``serve_push``). After commit, a checkpoint maps the time to the positions.
    """
    reader = RecordReader(access)
    items = [reader.read(index, record) for index, record in enumerate(records)]
    reads = [item for item in items if isinstance(item, Read)]
    versions: dict[tuple[str, str], int] = {}
    reached: dict[int, int] = {}
    # A savepoint only when the push may have to undo itself inside its caller's transaction.
    with transaction.atomic(savepoint=atomic or dry_run), collecting_changes() as buffer:
        lock_row_keys(
            ((item.label, item.key) for item in reads if item.open and item.pk_given),
            keep=_kept_organization(access, reads),
        )
        writes: list[Write] = []
        for model, group in _by_model(reads).items():
            writes += _decide(access, model, group, reader)
        _check_foreign_keys(access, writes, reader)
        _check_unique(writes)
        reject_dependents(reads)
        write = not (atomic and any(item.status in FAILURE for item in items))
        if write:
            written = write_rows(access, writes)
            record_written(access, written, buffer)
            write_history(access.user, written)
            delete_rows(access, writes, buffer)
        for decided in writes:
            if decided.item.open:
                decided.item.finish(DONE_BY_ACTION[decided.action])
        atomic_rejected = atomic and any(item.status in FAILURE for item in items)
        applied = not (dry_run or atomic_rejected)
        if applied:
            _touch_metadata(access, reads)
        if write:
            # Last: it locks the scope's clock row until commit, which serializes the scope's pushes.
            versions = write_changes(buffer, reached=reached)
        result = PushResult.from_items(items, versions, applied=applied, atomic_rejected=atomic_rejected)
        if applied:
            # The changes were positioned in this transaction (write_changes); the checkpoint that maps
            # timestamps to positions is written once they are visible. Should it fail, timestamps map
            # to an earlier checkpoint: a client gets some rows again, never fewer.
            transaction.on_commit(lambda: write_checkpoints(reached), robust=True)
        else:
            transaction.set_rollback(True)
    return result


def _kept_organization(access: Access, reads: list[Read]) -> tuple[type[models.Model], Any] | None:
    """The caller's organization row, when the push may create rows pointing at it: it is locked
    against deletion, so the only foreign key of a create that is not checked before writing (the
    tenant's) cannot fail at commit."""
    for item in reads:
        tenant = discovery.tenant_field(item.model) if item.open and not item.deleted else None
        if tenant is not None:
            return tenant.related_model, access.organization.pk
    return None


@dataclass(frozen=True)
class ModelShape:
    """What reading and deciding a record need to know of its model, worked out once per model and push
    (settings decide the tenant and the server-owned fields)."""

    pk_keys: tuple[str, ...]  # the keys a record may give the primary key under
    by_key: dict[str, models.Field[Any, Any]]  # every concrete field, by name and by attname
    tenant: models.ForeignKey[Any, Any] | None
    writable: dict[str, models.Field[Any, Any]]  # by name
    scalars: frozenset[str]  # writable fields that are not relations: clean_fields validates them
    required: tuple[models.Field[Any, Any], ...]  # foreign keys a create must set (not the tenant's)
    validated: tuple[models.Field[Any, Any], ...]  # the scalars, in the model's order (``_clean``)
    foreign_keys: tuple[models.ForeignKey[Any, Any], ...]


class RecordReader:
    """Reads records without queries; works out each model's shape once."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._shapes: dict[type[models.Model], ModelShape] = {}

    def shape(self, model: type[models.Model]) -> ModelShape:
        if model not in self._shapes:
            meta = model._meta
            writable = {
                name: f
                for name, f in v.writable_fields(model).items()
                if not f.is_relation or self.fk_target_kind(f) is not None
            }
            tenant = discovery.tenant_field(model)
            self._shapes[model] = ModelShape(
                pk_keys=tuple(dict.fromkeys((meta.pk.name, meta.pk.attname, *v.PK_KEYS))),
                by_key={key: f for f in meta.concrete_fields for key in (f.name, f.attname)},
                tenant=tenant,
                writable=writable,
                scalars=frozenset(name for name, f in writable.items() if not f.is_relation),
                required=tuple(
                    f
                    for f in meta.concrete_fields
                    if f.is_relation and not f.primary_key and not f.null and f is not tenant
                ),
                validated=tuple(
                    f
                    for f in meta.fields
                    if f.name in writable and not f.is_relation and not f.generated and f.concrete
                ),
                foreign_keys=tuple(f for f in meta.concrete_fields if isinstance(f, models.ForeignKey)),
            )
        return self._shapes[model]

    def fk_target_kind(self, field: models.Field[Any, Any]) -> str | None:
        """``user`` (an active member of the organization), ``synced`` (a row of the caller's view of
        an enabled model, with can_pull) or None: the field is server-owned."""
        target = field.related_model
        if target is get_user_model():
            return "user"
        if isinstance(target, type) and self.access.model(target._meta.label) is target:
            return "synced"
        return None

    def read(self, index: int, record: dict[str, Any]) -> Item:
        model = self.access.model(record["_model"])
        if model is None or not self.access.can(model, Action.PUSH):
            refused = Item(index=index, record=record)
            refused.finish(RecordStatus.FORBIDDEN, detail=FORBIDDEN_MODEL)
            return refused
        item = Read(index=index, record=record, model=model)
        if model._meta.parents:
            item.reject({v.NON_FIELD: [INHERITED]})
            return item
        meta_errors = self._read_meta(item)
        if meta_errors:
            item.reject(meta_errors)
            return item
        if item.deleted and not self.access.can(model, Action.DELETE):
            item.finish(RecordStatus.FORBIDDEN, detail=FORBIDDEN_ACTION[DELETE])
            return item
        if not item.deleted:
            self._read_fields(item)
        return item

    def _read_meta(self, item: Read) -> dict[str, list[str]]:
        record, model = item.record, item.model
        errors: dict[str, list[str]] = {}
        deleted = record.get("_deleted", False)
        if not isinstance(deleted, bool):
            errors["_deleted"] = ["Give true or false."]
        item.deleted = deleted is True
        version = record.get("_version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 0):
            errors["_version"] = ["Give the version you last received (a whole number)."]
        item.version = version
        pk_field = model._meta.pk
        raws = [record[k] for k in self.shape(model).pk_keys if record.get(k) is not None]
        if len(raws) > 1 and len({repr(raw) for raw in raws}) > 1:
            errors[pk_field.name] = [PK_TWICE]
        elif raws:
            try:
                item.pk = v.convert_key(pk_field, raws[0])
                item.key = pk_key(model, item.pk)
                item.pk_given = True
            except ValidationError:
                errors[pk_field.name] = [v.UNUSABLE_PK]
        elif item.deleted:
            errors[pk_field.name] = [DELETE_WITHOUT_PK]
        return errors

    def _read_fields(self, item: Read) -> None:
        shape = self.shape(item.model)
        for key, raw in item.record.items():
            if key in v.META_KEYS or key in shape.pk_keys:
                continue
            field = shape.by_key.get(key)
            if field is None:
                item.errors[key] = [v.UNKNOWN_FIELD]
            elif field.name in item.sent:
                item.errors[key] = [v.GIVEN_TWICE]
            elif field is shape.tenant:
                if raw != self.access.organization.pk:
                    item.errors[key] = [v.OWN_ORGANIZATION]
            elif field.name not in shape.writable:
                item.errors[key] = [v.READ_ONLY]
            else:
                item.sent[field.name] = key
                try:
                    item.values[field.attname] = v.convert(field, raw)
                except ValidationError as exc:
                    item.errors[key] = v.error_messages(exc)


def _by_model(items: list[Read]) -> dict[type[models.Model], list[Read]]:
    groups: dict[type[models.Model], list[Read]] = defaultdict(list)
    for item in items:
        if item.open:
            groups[item.model].append(item)
    return groups


def _decide(
    access: Access, model: type[models.Model], items: list[Read], reader: RecordReader
) -> list[Write]:
    """Look up the rows of ``items`` (``_look_up``) and decide each one: finished (unchanged, conflict,
    rejected, forbidden) or to be written."""
    keyed: dict[str, Read] = {}
    for item in items:
        if not item.pk_given:
            continue
        key = item.key
        if key in keyed:
            item.reject({model._meta.pk.name: [DUPLICATE]})
        else:
            keyed[key] = item
    found, versions, taken = _look_up(access, model, keyed, _columns(model, keyed, reader))
    auto_pk = isinstance(model._meta.pk, AutoFieldMixin)
    writes: list[Write] = []
    for item in items:
        if not item.open:
            continue
        key = item.key
        row = found.get(key)
        item.current_version = versions.get(key, 0) if row is not None else None
        decided: Write | None = None
        if item.deleted:
            if row is None:
                item.finish(RecordStatus.UNCHANGED)
            elif item.version is not None and item.version != item.current_version:
                # A delete that names a version deletes that version only: a row changed since is a
                # conflict (with the server row), like an update; without _version it is unconditional.
                _finish_conflict(access, item, row)
            else:
                decided = Delete(item, row)
        elif row is not None:
            decided = _decide_update(access, item, row, reader)
        elif item.version is not None:
            _finish_conflict(access, item, None)
        else:
            unusable = bool(key) and (auto_pk or key in taken)
            decided = _decide_create(access, item, unusable=unusable, reader=reader)
        if decided is not None:
            writes.append(decided)
    return writes


def _columns(model: type[models.Model], keyed: dict[str, Read], reader: RecordReader) -> list[str] | None:
    """The fields the batch's rows need loading with, when fewer than all: the records (deletes aside)
    all send the same fields, so the updates write only these (``UPDATE … FROM``) and compare, validate
    and check foreign keys on these; plus the fields of unique constraints (checked on the written row).
    None (all fields) when the records send different fields (full rows are upserted) or history must
    be built from model instances."""
    sent = {frozenset(item.values) for item in keyed.values() if not item.deleted}
    attnames = next(iter(sent), frozenset())
    if len(sent) > 1 or not history_copyable(model) or not updates_in_place(model, attnames):
        return None
    shape = reader.shape(model)
    names = {shape.by_key[attname].name for attname in attnames}
    names.update(f.name for fields in v.unique_sets(model) for f in fields)
    return sorted(names)


def _look_up(
    access: Access, model: type[models.Model], keyed: dict[str, Read], columns: list[str] | None
) -> tuple[dict[str, models.Model], dict[str, int], set[str]]:
    """The rows named by ``keyed`` that lie inside the caller's view, locked, with their versions; and
    the keys taken by rows outside it (a create may not use them). Each row of the batch's keys,
    whoever's, is read locked with whether ``Access.rows`` holds it (``_in_view``), so a row of another
    organization answers like a row that does not exist. With ``columns``, rows are loaded with these
    fields only, and the rows of conflicts (answered with the whole server row) are loaded again whole,
    in one more query.

    The versions come from the change index's records of the batch's keys (by the index's unique key),
    on PostgreSQL in the same statement (``_versions_sql``); on SQLite, where a statement costs no
    round trip, in a second query."""
    if not keyed:
        return {}, {}, set()
    connection = transaction.get_connection()
    meta = model._meta
    loaded = [f for f in meta.concrete_fields if columns is None or f.primary_key or f.name in columns]
    rows = (
        model._base_manager.filter(AnyOf(F("pk"), [i.pk for i in keyed.values()]))
        .annotate(_sbsync_in_view=_in_view(access, model))
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list(*(f.attname for f in loaded), "_sbsync_in_view")
    )
    compiler = rows.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    key_text = row_key_text(model, connection, f"q.{connection.ops.quote_name(meta.pk.column)}")
    folded = connection.vendor == "postgresql" and key_text is not None
    if folded:
        versions_sql, versions_params = _versions_sql(access, model, list(keyed), connection)
        sql = f"SELECT q.*, ({versions_sql}) ->> {key_text} FROM ({sql}) q"
        params = [*versions_params, *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    width = len(loaded)
    converters = compiler.get_converters([column for column, _, _ in compiler.select[:width]])
    values = [row[:width] for row in fetched]
    if converters:
        values = list(compiler.apply_converters(values, converters))
    attnames = [f.attname for f in loaded]
    found: dict[str, models.Model] = {}
    versions: dict[str, int] = {}
    taken: set[str] = set()
    # The batch's keys by value, so a row's key text is looked up rather than written again.
    keys = {item.pk: key for key, item in keyed.items()}
    at = loaded.index(meta.pk)
    for fetched_row, row_values in zip(fetched, values, strict=True):
        key = keys.get(row_values[at]) or pk_key(model, row_values[at])
        if not fetched_row[width]:
            taken.add(key)
            continue
        found[key] = model.from_db(connection.alias, attnames, row_values)
        if folded and fetched_row[width + 1] is not None:
            versions[key] = int(fetched_row[width + 1])
    if found and not folded:
        records = SyncRecord.objects.filter(
            AnyOf(F("object_pk"), list(found)), scope=access.scope(model), model_label=meta.label
        )
        versions = dict(records.values_list("object_pk", "version"))
    if columns is not None:
        stale = [
            found[key].pk
            for key, item in keyed.items()
            if key in found and item.version is not None and item.version != versions.get(key, 0)
        ]
        if stale:
            found.update((pk_key(model, row.pk), row) for row in model._base_manager.filter(pk__in=stale))
    return found, versions, taken


def _versions_sql(
    access: Access, model: type[models.Model], keys: list[str], connection: Any
) -> tuple[str, list[Any]]:
    """SQL of one value, computed once per statement: the versions of the change index's records of
    ``keys`` (``model`` in the caller's scope) as a ``jsonb`` object keyed by ``object_pk``, which the
    lookup reads per row with ``->>``. Not a join or a version lookup correlated to each row: either is
    planned as a scan of the scope's records per row when the table's statistics are stale (40 ms for
    500 rows); this reads the records by the index's unique key, as a query of its own would."""
    keys_sql, keys_params = in_values(
        "r.object_pk", SyncRecord._meta.get_field("object_pk"), keys, connection
    )
    table = connection.ops.quote_name(SyncRecord._meta.db_table)
    return (
        f"SELECT jsonb_object_agg(r.object_pk, r.version) FROM {table} r "
        f"WHERE r.scope = %s AND r.model_label = %s AND {keys_sql}",
        [access.scope(model), model._meta.label, *keys_params],
    )


def _in_view(access: Access, model: type[models.Model]) -> Any:
    """SQL truth of "``Access.rows(model)`` holds this row": the scope's condition itself when the
    caller has no row filters and the default manager filters nothing, else an EXISTS over
    ``Access.rows`` (row filters may join other tables)."""
    if access.conditions(model) or model._default_manager.all().query.has_filters():
        return Exists(access.rows(model).filter(pk=OuterRef("pk")))
    scope = access.scope_filter(model)
    return ExpressionWrapper(scope, output_field=models.BooleanField()) if scope else Value(True)


def _finish_conflict(access: Access, item: Read, row: models.Model | None) -> None:
    # A delete's own permission was checked when the record was read.
    if not item.deleted and not access.can(item.model, Action.UPDATE):
        item.finish(RecordStatus.FORBIDDEN, detail=FORBIDDEN_ACTION[UPDATE])
        return
    extra: dict[str, Any] = {"detail": CONFLICT}
    if row is not None:
        extra["_version"] = item.current_version
    if access.can(item.model, Action.READ):
        extra["server"] = instance_payload(row, item.current_version) if row is not None else None
    item.finish(RecordStatus.CONFLICT, **extra)


def _decide_update(access: Access, item: Read, row: models.Model, reader: RecordReader) -> Update | None:
    model = item.model
    if not access.can(model, Action.UPDATE):
        item.finish(RecordStatus.FORBIDDEN, detail=FORBIDDEN_ACTION[UPDATE])
        return None
    if item.version is not None and item.version != item.current_version:
        _finish_conflict(access, item, row)
        return None
    # The locked row becomes the row to write (no copy): the values it had are kept for the comparisons.
    before = {attname: getattr(row, attname) for attname in item.values}
    for attname, value in item.values.items():
        setattr(row, attname, value)
    if not _clean(item, row, reader.shape(model).scalars & item.sent.keys(), reader):
        return None
    if all(getattr(row, attname) == value for attname, value in before.items()):
        item.finish(RecordStatus.UNCHANGED)
        return None
    return Update(item, row, before=before)


def _decide_create(access: Access, item: Read, *, unusable: bool, reader: RecordReader) -> Create | None:
    model = item.model
    if not access.can(model, Action.CREATE):
        item.finish(RecordStatus.FORBIDDEN, detail=FORBIDDEN_ACTION[CREATE])
        return None
    if unusable:
        item.reject({model._meta.pk.name: [v.UNUSABLE_PK]})
        return None
    shape = reader.shape(model)
    for field in shape.required:
        if field.name not in item.sent and field.get_default() is None:
            item.errors[field.name] = [v.NOT_NULL]
    instance = model(**item.values)
    if shape.tenant is not None:
        setattr(instance, shape.tenant.attname, access.organization.pk)
    if item.pk_given:
        instance.pk = item.pk
    return Create(item, instance) if _clean(item, instance, shape.scalars, reader) else None


def _clean(item: Read, instance: models.Model, checked: Set[str], reader: RecordReader) -> bool:
    """Run the field validators of ``checked`` fields on ``instance`` (no queries) and reject the record
    with these and the errors found while reading it, if any. False when rejected.

    What ``Model.clean_fields`` does, without its ``to_python`` (the values were converted when read)
    and with the fields worked out once per model: a blank value of a field that allows blanks is not
    validated; other values go through the field's ``validate`` (choices, null, blank) and validators."""
    shape = reader.shape(item.model)
    # Fields whose value could not be read (their error is already in item.errors) are not validated.
    unreadable = (
        {name for name in item.sent if shape.by_key[name].attname not in item.values} if item.errors else ()
    )
    errors = dict(item.errors)
    for field in shape.validated:
        if field.name not in checked or field.name in unreadable:
            continue
        value = getattr(instance, field.attname)
        if field.blank and value in field.empty_values:
            continue
        try:
            field.validate(value, instance)
            field.run_validators(value)
        except ValidationError as exc:
            errors[item.sent.get(field.name, field.name)] = exc.messages
    if errors:
        item.reject(errors)
        return False
    return True


def _check_foreign_keys(access: Access, writes: list[Write], reader: RecordReader) -> None:
    """Every foreign key a create or update sets must point at a row the caller could pull (one query
    per field), or at a row created earlier in this push; a user must be an active member of the
    organization. The same message for every unusable target, so nothing is revealed about other rows."""
    creating: dict[tuple[str, str], Read] = {}
    deleting: set[tuple[str, str]] = set()
    for decided in writes:
        item = decided.item
        if not item.pk_given:
            continue
        key = (item.label, item.key)
        if isinstance(decided, Create) and item.open:
            creating[key] = item
        elif isinstance(decided, Delete):
            deleting.add(key)
    wanted: dict[models.ForeignKey[Any, Any], list[tuple[Read, Any]]] = defaultdict(list)
    for decided in writes:
        item = decided.item
        if not item.open or isinstance(decided, Delete):
            continue
        for field in reader.shape(item.model).foreign_keys:
            if field.attname not in item.values:
                continue
            value = item.values[field.attname]
            if value is None or (isinstance(decided, Update) and decided.before[field.attname] == value):
                continue
            wanted[field].append((item, value))
    for field, pairs in wanted.items():
        target = field.related_model
        target_field = field.target_field
        valid = _valid_targets(access, field, reader.fk_target_kind(field), {value for _, value in pairs})
        for item, value in pairs:
            key = (target._meta.label, str(value)) if target_field.primary_key else ("", "")
            if value in valid and key not in deleting:
                continue
            maker = creating.get(key)
            if maker is not None and access.can(target, Action.PULL):
                item.depends.append((maker, item.sent.get(field.name, field.name)))
                continue
            if item.open:
                item.reject({item.sent.get(field.name, field.name): [v.NO_SUCH_ROW]})


def _valid_targets(
    access: Access, field: models.ForeignKey[Any, Any], kind: str | None, values: set[Any]
) -> set[Any]:
    target_attname = field.target_field.attname
    if kind == "user":
        return set(
            Membership.objects.filter(
                organization=access.organization,
                is_active=True,
                user__is_active=True,
                **{f"user__{target_attname}__in": values},
            ).values_list(f"user__{target_attname}", flat=True)
        )
    target = field.related_model
    if kind == "synced" and access.can(target, Action.PULL):
        return set(
            access.rows(target)
            .filter(**{f"{target_attname}__in": values})
            .values_list(target_attname, flat=True)
        )
    return set()


def _check_unique(writes: list[Write]) -> None:
    by_model: dict[type[models.Model], dict[int, Write]] = defaultdict(dict)
    for decided in writes:
        if decided.item.open and not isinstance(decided, Delete):
            by_model[decided.model][decided.item.index] = decided
    for model, group in by_model.items():
        conflicts = v.unique_conflicts(model, [(index, decided.instance) for index, decided in group.items()])
        for index, errors in conflicts.items():
            item = group[index].item
            item.reject({item.sent.get(name, name): messages for name, messages in errors.items()})


def _touch_metadata(access: Access, reads: list[Read]) -> None:
    """Per organization and model: when it last synced and how many records were written (one upsert)."""
    written = Counter(item.label for item in reads if item.status in DONE_BY_ACTION.values())
    touch_organization(access.organization.pk, dict(written), timezone.now())
