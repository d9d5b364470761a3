from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from sbsync.demo.shop.models import Customer, Order, Report
from sbsync.demo.shop.seed import DEMO_USERS
from sbsync.models import Organization


def home(request: HttpRequest) -> HttpResponse:
    """The demo's landing page: where to go and who to log in as."""
    context = {
        "organizations": Organization.objects.order_by("name"),
        "counts": {
            "customers": Customer.objects.count(),
            "orders": Order.objects.count(),
            "reports": Report.objects.count(),
        },
        "users": [(user.username, user.note) for user in DEMO_USERS],
        # Absolute, so the example works on whatever address and port the demo runs.
        "token_url": request.build_absolute_uri(reverse("sbsync:auth-token")),
        "pull_url": request.build_absolute_uri(reverse("sbsync:pull")),
    }
    return render(request, "shop/home.html", context)
