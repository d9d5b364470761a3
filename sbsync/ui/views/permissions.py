"""The permission matrix of one organization: a checkbox per group, action and enabled model.

With JavaScript each box saves on change (``permission_cell``) and the row, column and "everything"
buttons save at once (``permission_bulk``). Without it, the matrix is one form with a Save button
(``permission_matrix`` POST) and the same buttons submit it to ``permission_bulk``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from sbsync.models import Organization
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.forms import BulkForm, CellForm, MatrixSaveForm, OrganizationSelectForm
from sbsync.ui.http import StaffRequest, is_partial_request, render_page
from sbsync.ui.matrix import (
    CellError,
    all_cells,
    apply_cells,
    build_matrix,
    check_cells,
    column_cells,
    current_cell,
    row_cells,
)

TEMPLATE = "sbsync/permission_matrix.html"


def _matrix_url(organization: Organization) -> str:
    return f"{reverse('sbsync:permission-matrix')}?{urlencode({'organization': organization.slug})}"


def _plural(count: int) -> str:
    return f"{count} permission{'' if count == 1 else 's'}"


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
        count = apply_cells(organization=organization, changes=changes, user=request.user)
        messages.success(request, f"Saved: {_plural(count)} changed in {organization}.")
        return HttpResponseRedirect(_matrix_url(organization))

    organizations = list(Organization.objects.order_by("name"))
    selector = OrganizationSelectForm(request.GET or None, organizations=organizations)
    if selector.is_bound and selector.is_valid():
        organization = selector.cleaned_data["organization"]
    else:
        organization = organizations[0] if organizations else None
        initial = {"organization": organization.slug if organization else None}
        selector = OrganizationSelectForm(initial=initial, organizations=organizations)
    context = {
        "selector": selector,
        "organizations": organizations,
        "matrix": build_matrix(organization) if organization else None,
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
        (cell,) = check_cells([cell], organization)
        count = apply_cells(organization=organization, changes={cell: granted}, user=request.user)
        problem = ""
    except CellError as exc:
        count, problem = 0, str(exc)
    if not is_partial_request(request):
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, f"Saved: {_plural(count)} changed in {organization}.")
        return HttpResponseRedirect(_matrix_url(organization))
    stored = current_cell(organization, cell)
    if stored is None:
        return HttpResponseBadRequest(problem)
    context = {"mc": stored, "status": "failed" if problem else "saved", "problem": problem}
    return render(request, f"{TEMPLATE}#cell_response", context)


@require_POST
@login_required
@staff_required
def permission_bulk(request: StaffRequest) -> HttpResponse:
    """Grant or revoke a whole row, a whole column, or everything; htmx gets the redrawn matrix."""
    form = BulkForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Not a row, column or matrix of an existing organization.")
    organization, bulk = form.cleaned_data["organization"], form.cleaned_data["bulk"]
    matrix = build_matrix(organization)
    if bulk["scope"] == "row":
        cells = row_cells(matrix, bulk["model"])
    elif bulk["scope"] == "column":
        cells = column_cells(matrix, bulk["group"], bulk["action"])
    else:
        cells = all_cells(matrix)
    count = apply_cells(
        organization=organization, changes=dict.fromkeys(cells, bulk["grant"]), user=request.user
    )
    verb = "Granted" if bulk["grant"] else "Revoked"
    summary = f"{verb} {_plural(count)} in {organization}." if count else "Nothing to change."
    if not is_partial_request(request):
        messages.success(request, summary)
        return HttpResponseRedirect(_matrix_url(organization))
    context = {"matrix": build_matrix(organization), "summary": summary}
    return render(request, f"{TEMPLATE}#matrix", context)
