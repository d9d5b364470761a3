"""Organizations and their members: create, edit or deactivate an organization; add a user with a group,
change the group, deactivate the membership. Every change is kept in the audit trail."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import Group
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from sbsync.models import Membership, Organization
from sbsync.ui.decorators import login_required, staff_required
from sbsync.ui.filters import OrganizationFilter
from sbsync.ui.forms import AddMemberForm, MembershipForm, OrganizationCreateForm, OrganizationEditForm
from sbsync.ui.http import (
    StaffRequest,
    is_partial_request,
    render_page,
    render_partial,
    with_messages,
)
from sbsync.ui.lists import list_page
from sbsync.ui.tables import OrganizationTable


def _detail_url(organization: Organization) -> str:
    return reverse("sbsync:organization-detail", args=[organization.slug])


@require_http_methods(["GET", "POST"])
@login_required
@staff_required
@vary_on_headers("HX-Request")
def organization_list(request: StaffRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None, prefix="new")
    if request.method == "POST":
        if form.is_valid():
            organization = form.save()
            messages.success(request, f"Organization “{organization}” created. Add its members below.")
            url = _detail_url(organization)
            return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)
        if is_partial_request(request):
            return render(request, "sbsync/organization_list.html#create", {"form": form})
    queryset = Organization.objects.annotate(
        members=Count("memberships", filter=Q(memberships__is_active=True))
    )
    filterset = OrganizationFilter(request.GET, queryset=queryset, request=request)
    page = list_page(request, filterset=filterset, table_class=OrganizationTable, filename="organizations")
    if page.export:
        return page.export
    context = {**page.context, "form": form}
    return render_page(request, "sbsync/organization_list.html", context, partial="table")


def _members(organization: Organization) -> list[tuple[Membership, MembershipForm]]:
    memberships = (
        Membership.objects.for_tenant(organization).select_related("user", "group").order_by("user__username")
    )
    members = [(m, MembershipForm(instance=m, prefix=f"m{m.pk}")) for m in memberships]
    if members:
        # Every row offers the same groups: read them once, not once per member. A comprehension, because
        # list() would first ask the choices for their length, which is a COUNT query.
        field = cast("forms.ModelChoiceField[Group]", MembershipForm.base_fields["group"])
        groups = [choice for choice in field.iterator(field)]
        for _, form in members:
            cast("forms.ModelChoiceField[Group]", form.fields["group"]).choices = groups
    return members


@require_http_methods(["GET", "POST"])
@login_required
@staff_required
def organization_detail(request: StaffRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    form = OrganizationEditForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Organization “{organization}” saved.")
        return HttpResponseRedirect(_detail_url(organization))
    context = {
        "organization": organization,
        "form": form,
        "add_form": AddMemberForm(organization=organization),
        "members": _members(organization),
    }
    return render(request, "sbsync/organization_detail.html", context)


@require_POST
@login_required
@staff_required
def membership_add(request: StaffRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    form = AddMemberForm(request.POST, organization=organization)
    if form.is_valid() and (membership := form.save()) is not None:
        messages.success(request, f"{membership.user} added to {organization} as {membership.group}.")
        # Redirected (htmx: the whole page), so a reload of the page never adds the member again.
        url = _detail_url(organization)
        return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)
    if is_partial_request(request):
        context = {"organization": organization, "add_form": form}
        return render_partial(request, "sbsync/organization_detail.html#add_member", context)
    context = {
        "organization": organization,
        "form": OrganizationEditForm(instance=organization),
        "add_form": form,
        "members": _members(organization),
    }
    return render(request, "sbsync/organization_detail.html", context)


def _membership_or_404(slug: str, pk: int) -> tuple[Organization, Membership]:
    """The organization named by ``slug`` and its membership ``pk`` (404 when either is missing, or the
    membership belongs to another organization)."""
    organization = get_object_or_404(Organization, slug=slug)
    membership = get_object_or_404(Membership.objects.for_tenant(organization).select_related("user"), pk=pk)
    return organization, membership


@require_POST
@login_required
@staff_required
def membership_edit(request: StaffRequest, slug: str, pk: int) -> HttpResponse:
    organization, membership = _membership_or_404(slug, pk)
    form = MembershipForm(request.POST, instance=membership, prefix=f"m{membership.pk}")
    saved = form.is_valid()
    if saved:
        form.save()
    if not is_partial_request(request):
        if saved:
            state = "" if membership.is_active else " (inactive)"
            messages.success(
                request, f"{membership.user} is now {membership.group} in {organization}{state}."
            )
        else:
            messages.error(request, f"{membership.user} was not changed: choose an existing group.")
        return HttpResponseRedirect(_detail_url(organization))
    membership = Membership.objects.select_related("user", "group").get(pk=membership.pk)
    if saved:
        form = MembershipForm(instance=membership, prefix=f"m{membership.pk}")
    context = {"organization": organization, "membership": membership, "member_form": form, "saved": saved}
    return render_partial(request, "sbsync/organization_detail.html#member", context)


@require_POST
@login_required
@staff_required
def membership_delete(request: StaffRequest, slug: str, pk: int) -> HttpResponse:
    """Remove a member from the organization (the audit trail keeps the membership's last values)."""
    organization, membership = _membership_or_404(slug, pk)
    username = membership.user.get_username()
    membership.delete()
    messages.success(request, f"{username} removed from {organization}.")
    if is_partial_request(request):
        # The row's button targets the row: the answer removes it and shows the message.
        return with_messages(request, HttpResponse(""))
    return HttpResponseRedirect(_detail_url(organization))
