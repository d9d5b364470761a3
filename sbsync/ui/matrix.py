"""The permission matrix: rows are enabled models, columns are groups × actions, cells are the
``can_<action>`` flags of ModelPermission rows in one organization.

Writes go through ``apply_cells``, which calls the domain function ``permission_rows.write_permission_flags``
(shared with the permissions document's import): only rows whose flags change are written, with history
attributed to the staff user, and the configuration generation changes in the same transaction, so every
worker process serves the new permissions at its next request.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from sbsync import discovery
from sbsync.access import PULL_ONLY_ACTIONS
from sbsync.enums import ACTIONS
from sbsync.models import ModelPermission, Organization
from sbsync.permission_rows import write_permission_flags


@dataclass(frozen=True)
class Cell:
    """One checkbox: a group's permission to do ``action`` on the model labelled ``model_label``."""

    group_id: int
    model_label: str
    action: str

    @property
    def key(self) -> str:
        return f"{self.group_id}:{self.model_label}:{self.action}"

    @property
    def dom_id(self) -> str:
        return f"{self.group_id}-{self.model_label.replace('.', '-').lower()}-{self.action}"

    @classmethod
    def parse(cls, key: str) -> Cell:
        """``"<group id>:<app_label.Model>:<action>"``; ValueError when malformed."""
        group, label, action = key.split(":")
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        return cls(int(group), label, action)


@dataclass(frozen=True)
class MatrixCell:
    cell: Cell
    group: Group
    granted: bool
    editable: bool
    model_name: str

    @property
    def vals(self) -> str:
        """The htmx ``hx-vals`` of the checkbox."""
        return json.dumps({"cell": self.cell.key})

    @property
    def label(self) -> str:
        return f"{self.group.name}: {self.cell.action} {self.model_name}"


@dataclass(frozen=True)
class MatrixRow:
    label: str
    shared: bool
    cells: list[MatrixCell]

    @property
    def parts(self) -> list[str]:
        """The label as app label and model name, so a narrow column can wrap at the dot."""
        return self.label.split(".", 1)


@dataclass(frozen=True)
class Matrix:
    organization: Organization
    groups: list[Group]
    rows: list[MatrixRow]

    @property
    def actions(self) -> tuple[str, ...]:
        return ACTIONS

    @property
    def shown(self) -> str:
        """The keys of the ticked boxes as drawn, for the form without JavaScript."""
        return ",".join(c.cell.key for row in self.rows for c in row.cells if c.editable and c.granted)

    @property
    def columns(self) -> list[tuple[Group, str, bool]]:
        """(group, action, first column of its group) for the header row of actions."""
        return [(g, a, i == 0) for g in self.groups for i, a in enumerate(ACTIONS)]


def is_editable(status: discovery.ModelStatus, action: str) -> bool:
    """Shared models are pull-only through the API, whatever their flags, so only their pull and read
    cells can be set."""
    return not status.shared or action in PULL_ONLY_ACTIONS


def _existing(organization: Organization) -> dict[tuple[int, str], ModelPermission]:
    rows = ModelPermission.objects.for_tenant(organization)
    return {(p.group_id, p.model_label.lower()): p for p in rows}


def build_matrix(
    organization: Organization, group_ids: Collection[int] = (), *, groups: list[Group] | None = None
) -> Matrix:
    """The current flags of the groups ``group_ids`` (every group when empty) on every enabled model in
    ``organization`` (three queries: the groups unless given, the organization's permissions and the
    discovery configuration)."""
    if groups is None:
        groups = list(Group.objects.order_by("name"))
    if group_ids:
        groups = [g for g in groups if g.pk in group_ids]
    existing = _existing(organization)
    rows = []
    for status in discovery.enabled_by_label().values():
        label = status.model._meta.label
        cells = []
        for group in groups:
            perm = existing.get((group.pk, label.lower()))
            for action in ACTIONS:
                cells.append(
                    MatrixCell(
                        cell=Cell(group.pk, label, action),
                        group=group,
                        granted=bool(perm and getattr(perm, f"can_{action}")),
                        editable=is_editable(status, action),
                        model_name=label,
                    )
                )
        rows.append(MatrixRow(label=label, shared=status.shared, cells=cells))
    return Matrix(organization=organization, groups=groups, rows=rows)


class CellError(ValueError):
    """A cell that cannot be set: unknown group, model not enabled, or a push flag of a shared model."""


def check_cells(cells: list[Cell]) -> list[Cell]:
    """The cells with canonical model labels; CellError names the first unusable one."""
    enabled = discovery.enabled_by_label()
    known_groups = set(Group.objects.filter(pk__in={c.group_id for c in cells}).values_list("pk", flat=True))
    result = []
    for cell in cells:
        status = enabled.get(cell.model_label.lower())
        if status is None:
            raise CellError(f"{cell.model_label} is not an enabled model.")
        if cell.group_id not in known_groups:
            raise CellError("That group no longer exists.")
        if not is_editable(status, cell.action):
            raise CellError(f"{status.model._meta.label} is shared: only pull and read can be granted.")
        result.append(Cell(cell.group_id, status.model._meta.label, cell.action))
    return result


def _apply_once(organization: Organization, changes: dict[Cell, bool], user: Any) -> list[Cell]:
    wanted: dict[tuple[int, str], dict[str, bool]] = {}
    for cell, granted in changes.items():
        wanted.setdefault((cell.group_id, cell.model_label), {})[f"can_{cell.action}"] = granted
    with transaction.atomic():
        # write_permission_flags locks this organization's rows: two cells of one row saved at once must
        # not lose either flag. A row that would grant nothing is not created.
        written = write_permission_flags(organization, wanted, user=user, create_empty=False)
    changed: list[Cell] = []
    for change in written:
        before = change.before or dict.fromkeys(change.after, False)
        label = change.row.model_label
        for name in wanted[(change.row.group_id, label)]:
            if before[name] != change.after[name]:
                changed.append(Cell(change.row.group_id, label, name.removeprefix("can_")))
    return changed


def apply_cells(*, organization: Organization, changes: dict[Cell, bool], user: Any) -> list[Cell]:
    """Set each cell to granted (True) or revoked (False). Writes only rows whose flags change, with
    history attributed to ``user``, and changes the configuration generation (through the QuerySet's
    bulk methods). Returns the cells that changed (what an undo sets back)."""
    if not changes:
        return []
    try:
        return _apply_once(organization, changes, user)
    except IntegrityError:
        # Another request created one of the rows between our read and insert; it exists now.
        return _apply_once(organization, changes, user)


def pending_changes(matrix: Matrix, cells: Iterable[Cell], grant: bool) -> list[MatrixCell]:
    """The boxes among ``cells`` that granting (or revoking) would change, as the matrix shows them."""
    wanted = set(cells)
    return [c for row in matrix.rows for c in row.cells if c.cell in wanted and c.granted != grant]


def count_by_group(matrix: Matrix, cells: Iterable[Cell]) -> list[tuple[str, int]]:
    """(group name, boxes) in the matrix's group order, for "this changes N boxes: A 3, B 2"."""
    counts = Counter(c.group_id for c in cells)
    return [(g.name, counts[g.pk]) for g in matrix.groups if counts[g.pk]]


def row_cells(matrix: Matrix, label: str) -> list[Cell]:
    return [
        c.cell for row in matrix.rows if row.label.lower() == label.lower() for c in row.cells if c.editable
    ]


def column_cells(matrix: Matrix, group_id: int, action: str) -> list[Cell]:
    return [
        c.cell
        for row in matrix.rows
        for c in row.cells
        if c.editable and c.cell.group_id == group_id and c.cell.action == action
    ]


def all_cells(matrix: Matrix) -> list[Cell]:
    return [c.cell for row in matrix.rows for c in row.cells if c.editable]


def current_cell(organization: Organization, cell: Cell) -> MatrixCell | None:
    """One cell as stored now (read again after a write); None when its group no longer exists."""
    status = discovery.enabled_by_label().get(cell.model_label.lower())
    group = Group.objects.filter(pk=cell.group_id).first()
    if group is None:
        return None
    perm = (
        ModelPermission.objects.for_tenant(organization)
        .for_group(group)
        .filter(model_label__iexact=cell.model_label)
        .first()
    )
    return MatrixCell(
        cell=cell,
        group=group,
        granted=bool(perm and getattr(perm, f"can_{cell.action}")),
        editable=status is not None and is_editable(status, cell.action),
        model_name=cell.model_label,
    )
