from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sbsync.demo.shop.models import Customer
from sbsync.models import Organization
from sbsync.monitoring.audit import (
    INITIAL_REASON,
    create_initial_history,
    delete_old_history,
    history_model_named,
    history_models,
    history_status,
)
from tests.factories import make_customer, make_organization


def _bulk_customers(organization: Organization, count: int) -> list[Customer]:
    # bulk_create writes no history: the rows an audit-trail setup is for.
    return Customer.objects.bulk_create(
        [Customer(name=f"Bulk {i}", organization=organization) for i in range(count)]
    )


def test_history_models_lists_every_model_with_an_audit_trail():
    labels = [model._meta.label for model in history_models()]

    assert labels == [
        "sbsync.DataFilter",
        "sbsync.DiscoveryConfig",
        "sbsync.Membership",
        "sbsync.ModelPermission",
        "sbsync.Organization",
        "sbsync.ServiceToken",
        "shop.Customer",
        "shop.Order",
        "shop.Product",
        "shop.Report",
    ]


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("shop.Nope", "'shop.Nope' is not an installed model (use app_label.ModelName)."),
        ("nodot", "'nodot' is not an installed model (use app_label.ModelName)."),
        (
            "sbsync.SyncLog",
            "sbsync.SyncLog keeps no audit trail (it has no simple-history HistoricalRecords).",
        ),
    ],
)
def test_history_model_named_explains_what_is_wrong(label, message):
    with pytest.raises(LookupError) as excinfo:
        history_model_named(label)

    assert str(excinfo.value) == message


def test_history_model_named_accepts_the_model_name_in_any_case():
    assert history_model_named("shop.customer") is Customer


@pytest.mark.django_db
def test_create_initial_history_records_only_rows_without_history():
    org = make_organization()
    saved = make_customer(organization=org, name="Saved")
    bulk = _bulk_customers(org, 3)

    created = create_initial_history(Customer)

    assert created == 3
    initial = Customer.history.filter(history_change_reason=INITIAL_REASON)
    assert sorted(initial.values_list("id", flat=True)) == sorted(c.pk for c in bulk)
    assert set(initial.values_list("history_type", flat=True)) == {"+"}
    assert Customer.history.filter(id=saved.pk).count() == 1


@pytest.mark.django_db
def test_create_initial_history_records_the_current_state_and_is_idempotent():
    org = make_organization()
    (row,) = _bulk_customers(org, 1)
    Customer.objects.filter(pk=row.pk).update(name="Renamed", age=41)
    create_initial_history(Customer)

    again = create_initial_history(Customer)

    assert again == 0
    assert list(Customer.history.filter(id=row.pk).values_list("name", "age", "history_user")) == [
        ("Renamed", 41, None)
    ]


@pytest.mark.django_db
def test_history_status_counts_rows_with_and_without_history():
    org = make_organization()
    customer = make_customer(organization=org)
    customer.name = "Changed"
    customer.save()
    _bulk_customers(org, 2)

    status = history_status(Customer)

    assert (status.label, status.rows, status.with_history, status.without_history, status.records) == (
        "shop.Customer",
        3,
        1,
        2,
        2,
    )


@pytest.mark.django_db
def test_delete_old_history_keeps_recent_records_and_the_latest_of_each_existing_row():
    org = make_organization()
    kept = make_customer(organization=org, name="v1")
    for name in ("v2", "v3"):
        kept.name = name
        kept.save()
    gone = make_customer(organization=org, name="gone")
    gone_pk = gone.pk
    gone.delete()
    Customer.history.update(history_date=timezone.now() - timedelta(days=400))
    fresh = make_customer(organization=org, name="fresh")

    deleted = delete_old_history(Customer, before=timezone.now() - timedelta(days=365))

    assert deleted == 4
    assert list(Customer.history.filter(id=kept.pk).values_list("name", flat=True)) == ["v3"]
    assert not Customer.history.filter(id=gone_pk).exists()
    assert Customer.history.filter(id=fresh.pk).count() == 1
