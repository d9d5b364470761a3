"""The dashboard: counts, today's activity and timings, the latest logs; the figures poll every 15 s."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.figures import dashboard_figures
from sbsync.ui.http import StaffRequest, render_page


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def dashboard(request: StaffRequest) -> HttpResponse:
    return render_page(request, "sbsync/dashboard.html", {"figures": dashboard_figures()}, partial="live")
