"""Long-lived API tokens for service users: issue (the token is shown once), list and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event

from sbsync.models import ServiceToken
from sbsync.service_tokens import issue_service_token, revoke_service_token, with_status
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import ServiceTokenFilter
from sbsync.ui.forms import IssueTokenForm
from sbsync.ui.http import StaffRequest, is_partial_request, render_page
from sbsync.ui.lists import list_page
from sbsync.ui.tables import ServiceTokenTable

TEMPLATE = "sbsync/token_list.html"


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
@staff_required
@vary_on_headers("HX-Request")
def token_list(request: StaffRequest) -> HttpResponse:
    form = IssueTokenForm(request.POST or None, prefix="issue", issuer=request.user)
    issued = token = None
    if request.method == "POST" and form.is_valid():
        # Answered directly, not redirected: the token exists only in this response.
        issued, token = issue_service_token(
            user=form.cleaned_data["username"],
            name=form.cleaned_data["name"],
            issued_by=request.user,
            lifetime=form.lifetime,
        )
        form = IssueTokenForm(prefix="issue", issuer=request.user)
    queryset = with_status(ServiceToken.objects.select_related("user", "issued_by"))
    filterset = ServiceTokenFilter(request.GET, queryset=queryset, request=request)
    page = list_page(request, filterset=filterset, table_class=ServiceTokenTable, filename="api-tokens")
    if page.export:
        return page.export
    context = {**page.context, "form": form, "issued": issued, "token": token}
    if request.method == "POST":
        response = render_page(request, TEMPLATE, context, partial="issue")
        return trigger_client_event(response, "tokens-changed") if issued else response
    return render_page(request, TEMPLATE, context, partial="table")


@require_POST
@login_required
@staff_required
def token_revoke(request: StaffRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(ServiceToken, pk=pk)
    if revoke_service_token(record, revoked_by=request.user):
        messages.success(
            request, f"Token “{record.name}” of {record.user} revoked: the API refuses it from now on."
        )
    else:
        messages.info(request, f"Token “{record.name}” was already revoked or expired.")
    if is_partial_request(request):
        return HttpResponseClientRefresh()
    return HttpResponseRedirect(reverse("sbsync:tokens"))
