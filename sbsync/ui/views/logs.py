"""Sync logs: a filtered, sorted, paginated table (refreshed every 30 s), its CSV, and one log's detail."""

from __future__ import annotations

import json
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
    context = {"log": log, "errors": error_rows(log.errors, log.request_data)}
    return render(request, "sbsync/sync_log_detail.html", context)


def _sent_records(request_data: Any) -> list[Any]:
    data = request_data.get("data") if isinstance(request_data, dict) else None
    return data if isinstance(data, list) else []


def _messages(error: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) pairs of one record's error: field errors by field, anything else as a whole."""
    pairs: list[tuple[str, str]] = []
    field_errors = error.get("errors")
    if isinstance(field_errors, dict):
        for field, messages in field_errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                pairs.append((str(field), str(message)))
    elif field_errors:
        pairs.append(("", str(field_errors)))
    said = [
        str(error[key]) for key in ("detail", "error", "message", "code") if error.get(key) not in (None, "")
    ]
    if isinstance(error.get("detail"), str) and isinstance(error.get("error"), str) and len(said) == 2:
        # A refused request's error: its sentence, then its code, as one problem.
        said = [f"{error['detail']} ({error['error']})"]
    pairs.extend(("", text) for text in said)
    return pairs or [("", "Rejected")]


def error_rows(errors: Any, request_data: Any = None) -> list[dict[str, Any]]:
    """A log's errors as rows of record → field → message, each with the value the client sent for that
    field (from the logged request, when it holds the record)."""
    sent = _sent_records(request_data)
    rows = []
    for position, error in enumerate(errors if isinstance(errors, list) else [errors] if errors else []):
        if not isinstance(error, dict):
            rows.append({"index": position, "record": "", "field": "", "message": str(error), "value": ""})
            continue
        index = error.get("index", position)
        record = " ".join(
            str(error[k]) for k in ("_model", "model", "id", "pk") if error.get(k) not in (None, "")
        )
        values = sent[index] if isinstance(index, int) and 0 <= index < len(sent) else {}
        for field, message in _messages(error):
            value = values.get(field, "") if isinstance(values, dict) and field else ""
            shown = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
            rows.append(
                {"index": index, "record": record, "field": field, "message": message, "value": shown}
            )
    return rows
