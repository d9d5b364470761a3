"""The audit trail of sbsync's configuration models, with field-level changes, filters and CSV."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig
from django_tables2.export import TableExport

from sbsync.ui import audit
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import AuditFilter
from sbsync.ui.http import StaffRequest, render_page
from sbsync.ui.tables import EXPORT_FORMATS, AuditTable

PER_PAGE = 50


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def audit_trail(request: StaffRequest) -> HttpResponse:
    querysets = audit.history_querysets(request.user)
    filtersets = {
        kind: AuditFilter(request.GET, queryset=qs, request=request) for kind, qs in querysets.items()
    }
    form_owner = next(iter(filtersets.values()))
    valid = form_owner.is_valid()
    rows = audit.combine(
        {kind: fs.qs if valid else querysets[kind].none() for kind, fs in filtersets.items()}
    )
    table = AuditTable(rows)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    if (fmt := request.GET.get("_export")) in EXPORT_FORMATS and TableExport.is_valid_format(fmt):
        table.details = audit.describe(list(table.data))
        export: HttpResponse = TableExport(fmt, table).response(f"audit-trail.{fmt}")
        return export
    table.details = audit.describe(row.record for row in table.page.object_list)
    return render_page(
        request, "sbsync/audit_trail.html", {"filter": form_owner, "table": table}, partial="table"
    )
