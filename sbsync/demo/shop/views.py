from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sbsync.demo.shop.models import Customer, Order, Report
from sbsync.models import Organization

DEMO_USERS = [
    ("admin", "staff superuser: the staff UI and the Django admin"),
    ("john_manager", "Acme Corporation, Managers"),
    ("mary_sales", "Global Retail, Sales (sees only the customers assigned to her)"),
    ("bob_analyst", "City University, Analysts"),
]


def home(request: HttpRequest) -> HttpResponse:
    """The demo's landing page: where to go and who to log in as."""
    context = {
        "organizations": Organization.objects.order_by("name"),
        "counts": {
            "customers": Customer.objects.count(),
            "orders": Order.objects.count(),
            "reports": Report.objects.count(),
        },
        "users": DEMO_USERS,
    }
    return render(request, "shop/home.html", context)
