"""Model discovery: the four discovery settings as a form saved to the database, with a live preview of
the models they enable, computed from the unsaved form (``discovery.evaluate``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from sbsync import discovery
from sbsync.models import DiscoveryConfig
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.forms import DiscoveryForm
from sbsync.ui.http import StaffRequest, render_page

TEMPLATE = "sbsync/model_discovery.html"


def _context(form: DiscoveryForm, preview: discovery.DiscoverySettings | None) -> dict[str, Any]:
    statuses = discovery.evaluate(preview) if preview is not None else []
    current = discovery.current_config()
    return {
        "form": form,
        "statuses": statuses,
        "enabled_count": sum(1 for s in statuses if s.enabled),
        "source": current.source,
        "current_labels": {m._meta.label for m in discovery.enabled_models(current)},
    }


def _difference(current: set[str], statuses: list[discovery.ModelStatus]) -> dict[str, list[str]]:
    """What switching to ``statuses`` changes: the models it enables and disables."""
    enabled = {s.label for s in statuses if s.enabled}
    return {"enables": sorted(enabled - current), "disables": sorted(current - enabled)}


@require_http_methods(["GET", "POST"])
@login_required
@staff_required
@vary_on_headers("HX-Request")
def model_discovery(request: StaffRequest) -> HttpResponse:
    if request.method == "POST":
        current = discovery.current_config()
        if "reset" in request.POST:
            if request.POST["reset"] != "confirmed":
                # Ask first, with what the project's settings would enable instead.
                form = DiscoveryForm(initial=current.as_dict())
                context = _context(form, current)
                project = discovery.evaluate(discovery.settings_config())
                context["reset_question"] = _difference(context["current_labels"], project)
                return render(request, TEMPLATE, context)
            deleted = DiscoveryConfig.objects.filter(pk=DiscoveryConfig.SINGLETON_PK).first()
            if deleted is not None:
                deleted.delete()
            messages.success(request, "Discovery settings reset: the SBSYNC settings apply again.")
            return HttpResponseRedirect(reverse("sbsync:model-discovery"))
        form = DiscoveryForm(request.POST)
        if form.is_valid():
            preview = form.to_settings()
            context = _context(form, preview)
            if context["enabled_count"] == 0 and "confirm_empty" not in request.POST:
                # Settings that enable nothing stop every client: say how many models that disables, and ask.
                context["empty_question"] = len(context["current_labels"])
                return render(request, TEMPLATE, context)
            form.save()
            messages.success(request, "Discovery settings saved. The API uses them from the next request.")
            return HttpResponseRedirect(reverse("sbsync:model-discovery"))
        return render_page(request, TEMPLATE, _context(form, None), partial="preview")
    config = discovery.current_config()
    form = DiscoveryForm(initial=config.as_dict())
    return render_page(request, TEMPLATE, _context(form, config), partial="preview")


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def model_discovery_preview(request: StaffRequest) -> HttpResponse:
    """What the form would enable, before saving: htmx gets the preview, a plain request the page."""
    form = DiscoveryForm(request.GET)
    preview = form.to_settings() if form.is_valid() else None
    return render_page(request, TEMPLATE, _context(form, preview), partial="preview")
