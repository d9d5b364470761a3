from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sbsync.demo.shop.models import Customer, Order
from sbsync.models import Organization
from tests.factories import make_customer, make_organization


def run(*args: str) -> str:
    out = StringIO()
    call_command("setup_audit_trails", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def unrecorded(db):
    """Rows written by bulk_create, which leaves no history: one organization, two customers, one order."""
    (org,) = Organization.objects.bulk_create([Organization(name="Bulk", slug="bulk")])
    customers = Customer.objects.bulk_create([Customer(name=f"C{i}", organization=org) for i in range(2)])
    Order.objects.bulk_create([Order(customer=customers[0], organization=org, amount=5)])
    return org


def test_setup_audit_trails_setup_records_every_row_without_history(unrecorded):
    out = run("--action", "setup")

    assert (
        "sbsync.Organization: 1 initial record(s)\nsbsync.ServiceToken: 0 initial record(s)\nshop.Customer: 2 initial record(s)\nshop.Order: 1 initial record(s)\n"
        in out
    )
    assert out.endswith("Created 4 initial history record(s) for 10 model(s).\n")
    assert (Customer.history.count(), Order.history.count(), Organization.history.count()) == (2, 1, 1)


def test_setup_audit_trails_setup_for_one_model_leaves_the_others(unrecorded):
    out = run("--action", "setup", "--model", "shop.Customer")

    assert out == "shop.Customer: 2 initial record(s)\nCreated 2 initial history record(s) for 1 model(s).\n"
    assert (Customer.history.count(), Order.history.count()) == (2, 0)


def test_setup_audit_trails_check_reports_rows_without_history(unrecorded):
    make_customer(organization=unrecorded, name="Saved")

    out = run("--action", "check", "--model", "shop.Customer")

    assert (
        out
        == "shop.Customer: 3 row(s), 1 with history, 2 without, 1 record(s)\n2 row(s) have no history: run --action setup.\n"
    )


def test_setup_audit_trails_check_after_setup_finds_every_row_recorded(unrecorded):
    run("--action", "setup")

    out = run("--action", "check")

    assert out.endswith("Every row has history.\n")
    assert "shop.Order: 1 row(s), 1 with history, 0 without, 1 record(s)\n" in out


def test_setup_audit_trails_cleanup_deletes_records_older_than_days(db):
    org = make_organization()
    customer = make_customer(organization=org, name="v1")
    customer.name = "v2"
    customer.save()
    Customer.history.update(history_date=timezone.now() - timedelta(days=40))
    org.description = "recent change"
    org.save()

    out = run("--action", "cleanup", "--days", "30", "--model", "shop.Customer")

    assert out == "shop.Customer: 1 record(s) deleted\nDeleted 1 history record(s) older than 30 day(s).\n"
    assert list(Customer.history.values_list("name", flat=True)) == ["v2"]
    assert Organization.history.filter(id=org.pk).count() == 2


def test_setup_audit_trails_cleanup_keeps_a_year_by_default(db):
    customer = make_customer()
    customer.save()
    Customer.history.filter(history_type="+").update(history_date=timezone.now() - timedelta(days=366))

    out = run("--action", "cleanup")

    assert "shop.Customer: 1 record(s) deleted\n" in out
    assert Customer.history.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            # The seed's own example: its app label was sb_sync.
            ["--action", "setup", "--model", "sb_sync.Organization"],
            "'sb_sync.Organization' is not an installed model (use app_label.ModelName). "
            "sb-sync's app label 'sb_sync' is 'sbsync' here: use sbsync.Organization.",
        ),
        (
            ["--action", "check", "--model", "sb_sync.UserOrganization"],
            "'sb_sync.UserOrganization' is not an installed model (use app_label.ModelName). "
            "sb-sync's app label 'sb_sync' is 'sbsync' here: use sbsync.Membership.",
        ),
        (
            ["--action", "check", "--model", "Customer"],
            "'Customer' is not an installed model (use app_label.ModelName).",
        ),
        (
            ["--action", "setup", "--model", "sbsync.SyncLog"],
            "sbsync.SyncLog keeps no audit trail (it has no simple-history HistoricalRecords).",
        ),
        (
            ["--action", "cleanup", "--days", "0"],
            "--days must be a whole number of days, at least 1 (got 0).",
        ),
        (
            ["--action", "cleanup", "--days", "-5"],
            "--days must be a whole number of days, at least 1 (got -5).",
        ),
    ],
)
def test_setup_audit_trails_rejects_bad_input_and_changes_nothing(unrecorded, args, message):
    Customer.history.bulk_history_create(
        list(Customer.objects.all()), default_date=timezone.now() - timedelta(days=900)
    )

    with pytest.raises(CommandError) as excinfo:
        run(*args)

    assert str(excinfo.value) == message
    assert (Customer.history.count(), Order.history.count(), Organization.history.count()) == (2, 0, 0)


@pytest.mark.parametrize("args", [["--action", "repair"], ["--action", "cleanup", "--days", "ten"], []])
def test_setup_audit_trails_rejects_bad_arguments(db, args):
    with pytest.raises(CommandError) as excinfo:
        run(*args)

    assert str(excinfo.value).startswith("Error: ")
