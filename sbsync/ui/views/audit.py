"""The audit trail of sbsync's configuration models, with field-level changes, filters and CSV."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sbsync.ui import audit
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import AuditFilter
from sbsync.ui.http import StaffRequest, render_page
from sbsync.ui.lists import filtered, list_page
from sbsync.ui.tables import AuditTable


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def audit_trail(request: StaffRequest) -> HttpResponse:
    querysets = audit.history_querysets(request.user)
    filtersets = {
        kind: AuditFilter(request.GET, queryset=qs, request=request) for kind, qs in querysets.items()
    }
    rows = audit.combine({kind: filtered(fs) for kind, fs in filtersets.items()})
    form_owner = next(iter(filtersets.values()))
    page = list_page(request, filterset=form_owner, table_class=AuditTable, filename="audit-trail", rows=rows)
    if page.export:
        return page.export
    return render_page(request, "sbsync/audit_trail.html", page.context, partial="table")
