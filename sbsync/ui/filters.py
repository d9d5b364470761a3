"""One FilterSet per list page of the staff UI (sbsync/docs/ui.md). Each narrows the queryset its view
passes in; invalid input gives an empty list (the views check ``is_valid``)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from django_filters.widgets import DateRangeWidget

from sbsync import discovery
from sbsync.enums import LogStatus, Operation
from sbsync.models import Organization, PerformanceMetrics, ServiceToken, SyncLog
from sbsync.ui import audit


# organizations and groups are ModelChoiceFilter querysets: django-filter calls them with the FilterSet's
# request (django-filter documents a callable queryset). The types-django-filter stub accepts only a QuerySet there,
# hence the ignores where they are passed.
def organizations(request: Any) -> QuerySet[Organization]:
    return Organization.objects.order_by("name")


def groups(request: Any) -> QuerySet[Group]:
    return Group.objects.order_by("name")


def organization_choice() -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        queryset=organizations,  # type: ignore[arg-type]
        to_field_name="slug",
        empty_label="Any",
    )


def enabled_model_choices() -> list[tuple[str, str]]:
    return [(m._meta.label, m._meta.label) for m in discovery.enabled_models()]


def candidate_model_choices() -> list[tuple[str, str]]:
    return [(m._meta.label, m._meta.label) for m in discovery.candidate_models()]


def yes_no(label: str, **kwargs: Any) -> django_filters.BooleanFilter:
    return django_filters.BooleanFilter(
        label=label, widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]), **kwargs
    )


class DataFilterFilter(django_filters.FilterSet):
    organization = organization_choice()
    group = django_filters.ModelChoiceFilter(queryset=groups, empty_label="Any")  # type: ignore[arg-type]
    model_label = django_filters.ChoiceFilter(
        label="Model", choices=enabled_model_choices, lookup_expr="iexact", empty_label="Any"
    )
    is_active = yes_no("Active")


def date_range(label: str) -> django_filters.DateFromToRangeFilter:
    """From and to dates, inclusive, in the current time zone (django-filter makes the bounds aware)."""
    return django_filters.DateFromToRangeFilter(label=label, widget=DateRangeWidget(attrs={"type": "date"}))


class SyncLogFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username", lookup_expr="icontains", label="User")
    organization = organization_choice()
    operation = django_filters.ChoiceFilter(choices=Operation.choices, empty_label="Any")
    status = django_filters.ChoiceFilter(choices=LogStatus.choices, empty_label="Any")
    model = django_filters.ChoiceFilter(
        label="Model", choices=candidate_model_choices, method="filter_model", empty_label="Any"
    )
    timestamp = date_range("Date")

    def filter_model(self, queryset: QuerySet[SyncLog], name: str, value: str) -> QuerySet[SyncLog]:
        # model_names is a JSON list; its text holds each label in quotes, so this matches whole labels.
        return queryset.filter(Q(model_name__iexact=value) | Q(model_names__icontains=f'"{value}"'))


def operation_types() -> list[tuple[str, str]]:
    found = (
        PerformanceMetrics.objects.order_by("operation_type")
        .values_list("operation_type", flat=True)
        .distinct()
    )
    return [(op, op) for op in found]


class MetricsFilter(django_filters.FilterSet):
    operation_type = django_filters.ChoiceFilter(
        label="Operation", choices=operation_types, empty_label="Any"
    )
    model_name = django_filters.ChoiceFilter(
        label="Model", choices=candidate_model_choices, lookup_expr="iexact", empty_label="Any"
    )
    organization = organization_choice()
    timestamp = date_range("Date")


class AuditFilter(django_filters.FilterSet):
    """Applied to each history table in turn (``audit.combine`` then unites them); ``model`` keeps one."""

    model = django_filters.ChoiceFilter(
        label="Model", choices=audit.kind_choices, method="filter_model", empty_label="Any"
    )
    user = django_filters.CharFilter(
        field_name="history_user__username", lookup_expr="icontains", label="User"
    )
    action = django_filters.ChoiceFilter(
        field_name="history_type",
        label="Action",
        empty_label="Any",
        choices=[(code, name.capitalize()) for code, name in audit.ACTIONS.items()],
    )
    history_date = date_range("Date")
    # The history of one object (with ``model``): each row of the table links to it.
    object = django_filters.NumberFilter(field_name="id", label="Object id")

    def filter_model(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset if queryset.model.instance_type._meta.model_name == value else queryset.none()


class OrganizationFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label="Name or slug", method="filter_name")
    is_active = yes_no("Active")

    def filter_name(self, queryset: QuerySet[Organization], name: str, value: str) -> QuerySet[Organization]:
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))


class ServiceTokenFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username", lookup_expr="icontains", label="User")
    name = django_filters.CharFilter(lookup_expr="icontains")
    live = django_filters.BooleanFilter(
        label="Status",
        widget=forms.Select(choices=[("", "All"), ("true", "Active"), ("false", "Revoked")]),
    )

    class Meta:
        model = ServiceToken
        fields: list[str] = []
