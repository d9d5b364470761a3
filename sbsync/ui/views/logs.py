"""Sync logs: a filtered, sorted, paginated table (refreshed every 30 s), its CSV, and one log's detail."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig
from django_tables2.export import TableExport

from sbsync.models import SyncLog
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import SyncLogFilter
from sbsync.ui.http import StaffRequest, render_page
from sbsync.ui.tables import EXPORT_FORMATS, SyncLogTable

PER_PAGE = 50


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def sync_log_list(request: StaffRequest) -> HttpResponse:
    queryset = SyncLog.objects.select_related("user", "organization")
    filterset = SyncLogFilter(request.GET, queryset=queryset, request=request)
    table = SyncLogTable(filterset.qs if filterset.is_valid() else queryset.none())
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    if (fmt := request.GET.get("_export")) in EXPORT_FORMATS and TableExport.is_valid_format(fmt):
        export: HttpResponse = TableExport(fmt, table).response(f"sync-logs.{fmt}")
        return export
    return render_page(
        request, "sbsync/sync_log_list.html", {"filter": filterset, "table": table}, partial="table"
    )


@require_GET
@login_required
@staff_required
def sync_log_detail(request: StaffRequest, code: str) -> HttpResponse:
    log = get_object_or_404(SyncLog.objects.select_related("user", "organization"), code=code)
    return render(request, "sbsync/sync_log_detail.html", {"log": log, "errors": error_rows(log.errors)})


def error_rows(errors: Any) -> list[dict[str, Any]]:
    """A log's errors as rows: position, record (model and id) and the remaining detail."""
    rows = []
    for position, error in enumerate(errors if isinstance(errors, list) else [errors] if errors else []):
        if not isinstance(error, dict):
            rows.append({"index": position, "record": "", "detail": error})
            continue
        detail = {k: v for k, v in error.items() if k not in ("index", "_model", "model", "id", "pk")}
        record = " ".join(
            str(error[k]) for k in ("_model", "model", "id", "pk") if error.get(k) not in (None, "")
        )
        rows.append({"index": error.get("index", position), "record": record, "detail": detail})
    return rows
