"""The permission matrix of one organization: a checkbox per group, action and enabled model.

With JavaScript each box saves on change (``permission_cell``). The row, column and "everything"
buttons first answer how many boxes they would change, per group, and apply only when confirmed
(``permission_bulk``); the answer to a bulk change offers one undo (``permission_undo``). Without
JavaScript, the matrix is one form with a Save button (``permission_matrix`` POST) and the same buttons.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import Group
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from sbsync.models import Organization
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.forms import (
    BulkForm,
    CellForm,
    MatrixSaveForm,
    OrganizationSelectForm,
    UndoForm,
    undo_value,
)
from sbsync.ui.http import StaffRequest, is_partial_request, render_page
from sbsync.ui.matrix import (
    CellError,
    Matrix,
    all_cells,
    apply_cells,
    build_matrix,
    check_cells,
    column_cells,
    count_by_group,
    current_cell,
    pending_changes,
    row_cells,
)

TEMPLATE = "sbsync/permission_matrix.html"


def _matrix_url(organization: Organization, group_ids: list[int] | None = None) -> str:
    query = urlencode({"organization": organization.slug, "groups": group_ids or []}, doseq=True)
    return f"{reverse('sbsync:permission-matrix')}?{query}"


def _plural(count: int) -> str:
    return f"{count} permission{'' if count == 1 else 's'}"


def _per_group(counts: list[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts)


def _page(
    request: StaffRequest, organization: Organization, group_ids: list[int], **extra: Any
) -> HttpResponse:
    """The matrix of ``organization`` (its region for htmx, else the whole page) with ``extra`` context:
    a summary, a question to confirm, an undo."""
    organizations = list(Organization.objects.order_by("name"))
    groups = list(Group.objects.order_by("name"))
    selector = OrganizationSelectForm(
        initial={"organization": organization.slug, "groups": [str(pk) for pk in group_ids]},
        organizations=organizations,
        groups=groups,
    )
    context = {
        "selector": selector,
        "organizations": organizations,
        "matrix": build_matrix(organization, group_ids, groups=groups),
        "group_ids": group_ids,
        **extra,
    }
    return render_page(request, TEMPLATE, context, partial="matrix")


@require_http_methods(["GET", "POST"])
@login_required
@staff_required
@vary_on_headers("HX-Request")
def permission_matrix(request: StaffRequest) -> HttpResponse:
    if request.method == "POST":
        form = MatrixSaveForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("Choose an existing organization.")
        organization = form.cleaned_data["organization"]
        changes = form.changes(all_cells(build_matrix(organization)))
        changed = apply_cells(organization=organization, changes=changes, user=request.user)
        messages.success(request, f"Saved: {_plural(len(changed))} changed in {organization}.")
        return HttpResponseRedirect(_matrix_url(organization))

    organizations = list(Organization.objects.order_by("name"))
    groups = list(Group.objects.order_by("name"))
    selector = OrganizationSelectForm(request.GET or None, organizations=organizations, groups=groups)
    group_ids: list[int] = []
    if selector.is_bound and selector.is_valid():
        organization = selector.cleaned_data["organization"]
        group_ids = selector.cleaned_data["groups"]
    else:
        organization = organizations[0] if organizations else None
        initial = {"organization": organization.slug if organization else None}
        selector = OrganizationSelectForm(initial=initial, organizations=organizations, groups=groups)
    context = {
        "selector": selector,
        "organizations": organizations,
        "matrix": build_matrix(organization, group_ids, groups=groups) if organization else None,
        "group_ids": group_ids,
    }
    return render_page(request, TEMPLATE, context, partial="matrix")


@require_POST
@login_required
@staff_required
def permission_cell(request: StaffRequest) -> HttpResponse:
    """Grant or revoke one cell; htmx gets the cell as stored now plus a status line."""
    form = CellForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Not a cell of an existing organization.")
    organization, cell = form.cleaned_data["organization"], form.cleaned_data["cell"]
    granted = form.granted
    try:
        (cell,) = check_cells([cell])
        changed = apply_cells(organization=organization, changes={cell: granted}, user=request.user)
        problem = ""
    except CellError as exc:
        changed, problem = [], str(exc)
    if not is_partial_request(request):
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, f"Saved: {_plural(len(changed))} changed in {organization}.")
        return HttpResponseRedirect(_matrix_url(organization))
    stored = current_cell(organization, cell)
    if stored is None:
        return HttpResponseBadRequest(problem)
    context = {"mc": stored, "status": "failed" if problem else "saved", "problem": problem}
    return render(request, f"{TEMPLATE}#cell_response", context)


def _bulk_cells(matrix: Matrix, spec: dict[str, Any]) -> list[Any]:
    if spec["scope"] == "row":
        return row_cells(matrix, spec["model"])
    if spec["scope"] == "column":
        return column_cells(matrix, spec["group"], spec["action"])
    return all_cells(matrix)


@require_POST
@login_required
@staff_required
def permission_bulk(request: StaffRequest) -> HttpResponse:
    """A whole row, column, or everything shown. Asked first: the answer says how many boxes would change
    in each group and asks once. Confirmed: applies, and the answer offers to undo it."""
    form = BulkForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Not a row, column or matrix of an existing organization.")
    organization, spec = form.cleaned_data["organization"], form.cleaned_data["spec"]
    group_ids = form.cleaned_data["groups"]
    matrix = build_matrix(organization, group_ids)
    grant = spec["grant"]
    verb = "Grant" if grant else "Revoke"
    pending = [c.cell for c in pending_changes(matrix, _bulk_cells(matrix, spec), grant)]
    if not pending:
        summary = f"Nothing to change: every one of those boxes is already {'ticked' if grant else 'clear'}."
        return _page(request, organization, group_ids, summary=summary)
    if not spec["confirmed"]:
        question = {
            "text": f"{verb} {_plural(len(pending))} in {organization}?",
            "per_group": count_by_group(matrix, pending),
            "value": spec["raw"],
            "verb": verb,
            "count": len(pending),
        }
        return _page(request, organization, group_ids, question=question)
    changed = apply_cells(organization=organization, changes=dict.fromkeys(pending, grant), user=request.user)
    counts = _per_group(count_by_group(matrix, changed))
    summary = f"{'Granted' if grant else 'Revoked'} {_plural(len(changed))} in {organization}"
    summary = f"{summary} ({counts})." if counts else f"{summary}."
    undo = undo_value(grant, changed) if changed else ""
    return _page(request, organization, group_ids, summary=summary, undo=undo)


@require_POST
@login_required
@staff_required
def permission_undo(request: StaffRequest) -> HttpResponse:
    """Set back the boxes a bulk change changed (the answer to it carries them)."""
    form = UndoForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Not a change of the matrix of an existing organization.")
    organization = form.cleaned_data["organization"]
    grant, cells = form.cleaned_data["undo"]
    try:
        cells = check_cells(cells)
    except CellError as exc:
        return HttpResponseBadRequest(f"Cannot undo: {exc}")
    changed = apply_cells(organization=organization, changes=dict.fromkeys(cells, grant), user=request.user)
    summary = f"Undone: {_plural(len(changed))} set back in {organization}."
    return _page(request, organization, form.cleaned_data["groups"], summary=summary)
