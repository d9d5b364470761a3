"""Performance metrics: charts over time, a breakdown per operation and model, the latest analysis's
suggestions, and the samples as a table with CSV export. Everything follows the same filters."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sbsync.models import PerformanceAnalysis, PerformanceMetrics
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import MetricsFilter
from sbsync.ui.http import StaffRequest, render_page
from sbsync.ui.lists import list_page
from sbsync.ui.performance import breakdown, build_charts, load_samples
from sbsync.ui.tables import MetricsTable

DEFAULT_DAYS = 2  # yesterday and today: hourly buckets, a curve worth reading


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def metrics(request: StaffRequest) -> HttpResponse:
    data = request.GET.copy()
    if "timestamp_after" not in data and "timestamp_before" not in data:
        # First visit: yesterday and today. An emptied date field means "no bound".
        data["timestamp_after"] = (timezone.localdate() - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    # Each sample links to its log by the log's code: one join, whatever the number of rows.
    queryset = PerformanceMetrics.objects.select_related("organization").annotate(log_code=F("log__code"))
    filterset = MetricsFilter(data, queryset=queryset, request=request)
    page = list_page(request, filterset=filterset, table_class=MetricsTable, filename="performance-metrics")
    if page.export:
        return page.export
    samples, capped = load_samples(page.rows)
    now = timezone.now()
    bounds = filterset.form.cleaned_data.get("timestamp") if filterset.is_valid() else None
    start = bounds.start if bounds and bounds.start else (samples[0].timestamp if samples else now)
    end = min(bounds.stop, now) if bounds and bounds.stop else now
    if end <= start:
        end = start + timedelta(hours=1)
    export_query = data.copy()
    export_query.pop("page", None)
    export_query["_export"] = "csv"
    context = {
        **page.context,
        "charts": build_charts(samples, start, end) if samples else [],
        "breakdown": breakdown(samples),
        "capped": capped,
        "sample_count": len(samples),
        "analysis": PerformanceAnalysis.objects.first(),
        "export_url": f"?{export_query.urlencode()}",
    }
    return render_page(request, "sbsync/metrics.html", context, partial="results")
