"""Data filters (row filters per organization, group and model): list, add, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from sbsync.models import DataFilter
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import DataFilterFilter
from sbsync.ui.forms import DataFilterForm
from sbsync.ui.http import StaffRequest, is_partial_request, render_page, with_messages
from sbsync.ui.lists import list_page
from sbsync.ui.tables import DataFilterTable


@require_GET
@login_required
@staff_required
@vary_on_headers("HX-Request")
def data_filter_list(request: StaffRequest) -> HttpResponse:
    queryset = DataFilter.objects.select_related("organization", "group")
    filterset = DataFilterFilter(request.GET, queryset=queryset, request=request)
    page = list_page(request, filterset=filterset, table_class=DataFilterTable, filename="data-filters")
    if page.export:
        return page.export
    return render_page(request, "sbsync/data_filter_list.html", page.context, partial="table")


def _edit(request: StaffRequest, instance: DataFilter | None) -> HttpResponse:
    if request.method == "POST":
        form = DataFilterForm(request.POST, instance=instance)
        if form.is_valid():
            saved = form.save()
            messages.success(request, f"Data filter “{saved.name}” saved.")
            url = f"{reverse('sbsync:data-filters')}?organization={saved.organization.slug}"
            return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)
    elif request.GET:
        # Re-drawn for another model (to list its fields) without saving: the typed values, no errors.
        form = DataFilterForm(
            instance=instance, initial={**request.GET.dict(), "is_active": "is_active" in request.GET}
        )
    else:
        form = DataFilterForm(instance=instance)
    context = {"form": form, "instance": instance}
    return render_page(request, "sbsync/data_filter_form.html", context, partial="form")


@require_http_methods(["GET", "POST"])
@login_required
@staff_required
@vary_on_headers("HX-Request")
def data_filter_add(request: StaffRequest) -> HttpResponse:
    return _edit(request, None)


@require_http_methods(["GET", "POST"])
@login_required
@staff_required
@vary_on_headers("HX-Request")
def data_filter_edit(request: StaffRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(DataFilter.objects.select_related("organization", "group"), pk=pk)
    return _edit(request, instance)


@require_POST
@login_required
@staff_required
def data_filter_delete(request: StaffRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(DataFilter, pk=pk)
    name = instance.name
    instance.delete()
    messages.success(request, f"Data filter “{name}” deleted.")
    if is_partial_request(request):
        # The row's button targets the row: the answer removes it and shows the message.
        return with_messages(request, HttpResponse(""))
    return HttpResponseRedirect(reverse("sbsync:data-filters"))
