"""Sync logs: a filtered, sorted, paginated table (refreshed every 30 s), its CSV, and one log's detail."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sbsync.models import SyncLog
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import SyncLogFilter
from sbsync.ui.http import StaffRequest, render_page
from sbsync.ui.lists import list_page
from sbsync.ui.tables import SyncLogTable


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def sync_log_list(request: StaffRequest) -> HttpResponse:
    queryset = SyncLog.objects.select_related("user", "organization")
    filterset = SyncLogFilter(request.GET, queryset=queryset, request=request)
    page = list_page(request, filterset=filterset, table_class=SyncLogTable, filename="sync-logs")
    if page.export:
        return page.export
    return render_page(request, "sbsync/sync_log_list.html", page.context, partial="table")


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
