from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import models

from sbsync.access import access_for
from sbsync.demo.shop.models import Customer, Order, Product, Report
from sbsync.models import SyncMetadata, SyncRecord
from sbsync.sync.changes.index import pk_key
from sbsync.sync.push.apply import apply_push
from sbsync.sync.push.items import Create, Read
from sbsync.sync.push.validation import NAIVE_DATETIME, NUL_CHARACTER, convert, unique_conflicts
from sbsync.sync.push.writes import REFUSED, write_rows
from tests.factories import make_customer, make_order, make_product

# The type's own range on every database (SQLite would store any 64-bit integer).
AGE_MAX = 32767
UUID_A = "7d0e3c0a-0000-4000-8000-00000000000a"
UUID_B = "7d0e3c0a-0000-4000-8000-00000000000b"


def push(user, organization, records, **options):
    return apply_push(access=access_for(user, organization), records=records, **options)


def version_of(instance) -> int:
    return SyncRecord.objects.get(
        model_label=instance._meta.label, object_pk=pk_key(type(instance), instance.pk)
    ).version


def test_create_with_client_key_and_server_key_records_rows_versions_and_history(trio):
    records = [
        {"_model": "shop.Customer", "id": UUID_A, "name": "Ann", "age": 30},
        {"_model": "shop.Customer", "name": "Bob", "department": "SALES"},
    ]

    result = push(trio.alice, trio.acme, records)

    ann, bob = Customer.objects.get(pk=UUID_A), Customer.objects.get(name="Bob")
    assert [r["status"] for r in result.results] == ["created", "created"]
    assert [r["id"] for r in result.results] == [UUID_A, str(bob.pk)]
    assert [r["_version"] for r in result.results] == [1, 1]
    assert (ann.organization, ann.age, bob.department) == (trio.acme, 30, "SALES")
    assert [(h.history_type, h.history_user) for h in Customer.history.filter(id=UUID_A)] == [
        ("+", trio.alice)
    ]
    assert version_of(bob) == 1


def test_applied_push_positions_its_changes_once_committed(trio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        push(trio.alice, trio.acme, [{"_model": "shop.Customer", "id": UUID_A, "name": "Ann"}])

    assert SyncRecord.objects.get(object_pk=UUID_A).seq is not None


def test_dry_run_positions_nothing(trio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        push(trio.alice, trio.acme, [{"_model": "shop.Customer", "id": UUID_A, "name": "Ann"}], dry_run=True)

    assert callbacks == []


def test_update_writes_sent_fields_bumps_version_and_keeps_the_rest(trio):
    customer = make_customer(organization=trio.acme, name="Old", age=40, department="SALES")

    result = push(trio.alice, trio.acme, [{"_model": "shop.Customer", "id": str(customer.pk), "name": "New"}])

    customer.refresh_from_db()
    assert result.results[0]["status"] == "updated"
    assert result.results[0]["_version"] == 2
    assert (customer.name, customer.age, customer.department) == ("New", 40, "SALES")
    assert customer.history.first().history_user == trio.alice
    assert result.processed_models == {"shop.Customer": {"created": 0, "updated": 1, "deleted": 0}}


@pytest.mark.parametrize("second", [{"name": "Two"}, {"age": 7}], ids=["same fields", "other fields"])
def test_updates_of_one_push_write_the_fields_each_sent_and_refresh_auto_now(trio, second):
    first = make_customer(organization=trio.acme, name="A", age=40, department="SALES")
    other = make_customer(organization=trio.acme, name="B", age=50, department="SUPPORT")
    stamped = Customer.objects.get(pk=first.pk).updated_at

    result = push(
        trio.alice,
        trio.acme,
        [
            {"_model": "shop.Customer", "id": str(first.pk), "name": "One"},
            {"_model": "shop.Customer", "id": str(other.pk), **second},
        ],
    )

    assert [r["status"] for r in result.results] == ["updated", "updated"]
    rows = {c.pk: c for c in Customer.objects.filter(pk__in=[first.pk, other.pk])}
    assert (rows[first.pk].name, rows[first.pk].age, rows[first.pk].department) == ("One", 40, "SALES")
    assert rows[first.pk].updated_at > stamped
    expected = {"name": "B", "age": 50, "department": "SUPPORT", **second}
    assert {k: getattr(rows[other.pk], k) for k in expected} == expected
    assert [h.name for h in Customer.history.filter(id=first.pk, history_type="~")] == ["One"]


def test_update_keeps_auto_now_add_and_refreshes_auto_now(trio):
    order = make_order(organization=trio.acme)
    created_at = order.created_at

    push(trio.alice, trio.acme, [{"_model": "shop.Order", "id": order.pk, "amount": "12.50"}])

    order.refresh_from_db()
    assert (order.amount, order.created_at) == (Decimal("12.50"), created_at)
    assert order.history.first().created_at == created_at


def test_identical_record_is_unchanged_without_write_version_or_history(trio):
    customer = make_customer(organization=trio.acme, name="Same", age=5)
    history = customer.history.count()

    result = push(
        trio.alice, trio.acme, [{"_model": "shop.Customer", "id": str(customer.pk), "name": "Same", "age": 5}]
    )

    assert result.results[0]["status"] == "unchanged"
    assert result.results[0]["_version"] == 1
    assert version_of(customer) == 1
    assert customer.history.count() == history


def test_delete_leaves_tombstones_for_the_row_and_its_cascade_attributed_to_the_user(trio):
    order = make_order(organization=trio.acme)
    customer = order.customer

    result = push(
        trio.alice, trio.acme, [{"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True}]
    )

    assert result.results[0]["status"] == "deleted"
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not Order.objects.filter(pk=order.pk).exists()
    assert SyncRecord.objects.get(model_label="shop.Order", object_pk=str(order.pk)).deleted is True
    tombstone = SyncRecord.objects.get(model_label="shop.Customer", object_pk=str(customer.pk))
    assert (tombstone.deleted, tombstone.version, result.results[0]["_version"]) == (True, 2, 2)
    deletions = Order.history.filter(id=order.pk, history_type="-")
    assert [h.history_user for h in deletions] == [trio.alice]


def test_delete_without_dependents_keeps_the_history_the_collector_would_write(trio):
    lone = make_customer(organization=trio.acme, name="lone", age=41)
    order = make_order(organization=trio.acme)
    parent = order.customer

    result = push(
        trio.alice,
        trio.acme,
        [{"_model": "shop.Customer", "id": str(c.pk), "_deleted": True} for c in (lone, parent)],
    )

    assert [r["status"] for r in result.results] == ["deleted", "deleted"]
    assert not Customer.objects.filter(pk__in=[lone.pk, parent.pk]).exists()
    assert not Order.objects.filter(pk=order.pk).exists()
    for gone in (lone, parent):
        tombstone = SyncRecord.objects.get(model_label="shop.Customer", object_pk=str(gone.pk))
        assert (tombstone.deleted, tombstone.version) == (True, 2)
    # Read through simple-history's API: the last record is the deletion, by the pushing user, with the
    # row's values; diff_against compares it with the record before.
    records = list(Customer.history.filter(id=lone.pk).order_by("history_id"))
    assert [(h.history_type, h.history_user, h.name, h.age) for h in records] == [
        ("+", None, "lone", 41),
        ("-", trio.alice, "lone", 41),
    ]
    assert records[1].diff_against(records[0]).changes == []
    assert [h.history_user for h in Order.history.filter(id=order.pk, history_type="-")] == [trio.alice]


def test_delete_with_history_off_deletes_rows_with_and_without_dependents_and_writes_no_history(
    trio, settings
):
    settings.SIMPLE_HISTORY_ENABLED = False
    lone = make_customer(organization=trio.acme)
    order = make_order(organization=trio.acme)

    result = push(
        trio.alice,
        trio.acme,
        [{"_model": "shop.Customer", "id": str(c.pk), "_deleted": True} for c in (lone, order.customer)],
    )

    assert [r["status"] for r in result.results] == ["deleted", "deleted"]
    assert not Customer.objects.filter(pk__in=[lone.pk, order.customer.pk]).exists()
    assert not Order.objects.filter(pk=order.pk).exists()
    assert {r.object_pk for r in SyncRecord.objects.filter(deleted=True)} == {
        str(lone.pk),
        str(order.customer.pk),
        str(order.pk),
    }
    assert not Customer.history.filter(history_type="-").exists()


def test_delete_of_a_model_others_listen_to_still_sends_the_signals(trio):
    customer = make_customer(organization=trio.acme)
    heard: list[object] = []

    def listener(sender, instance, **kwargs):
        heard.append(instance.pk)

    models.signals.post_delete.connect(listener, sender=Customer)
    try:
        result = push(
            trio.alice, trio.acme, [{"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True}]
        )
    finally:
        models.signals.post_delete.disconnect(listener, sender=Customer)

    assert result.results[0]["status"] == "deleted"
    assert heard == [customer.pk]
    assert Customer.history.get(id=customer.pk, history_type="-").history_user == trio.alice


def test_delete_of_a_missing_row_is_unchanged(trio):
    result = push(trio.alice, trio.acme, [{"_model": "shop.Customer", "id": UUID_A, "_deleted": True}])

    assert result.results[0]["status"] == "unchanged"
    assert result.success_count == 1


def test_stale_version_is_a_conflict_with_the_server_row_and_is_not_applied(trio):
    customer = make_customer(organization=trio.acme, name="v1")
    customer.name = "v2"
    customer.save()

    result = push(
        trio.alice,
        trio.acme,
        [{"_model": "shop.Customer", "id": str(customer.pk), "name": "mine", "_version": 1}],
    )

    customer.refresh_from_db()
    conflict = result.results[0]
    assert (conflict["status"], conflict["_version"]) == ("conflict", 2)
    assert conflict["server"]["name"] == "v2"
    assert conflict["server"]["_version"] == 2
    assert customer.name == "v2"
    assert result.status == "error"


def test_conflicts_among_many_updates_answer_the_whole_server_rows_in_one_more_query(
    trio, django_assert_max_num_queries
):
    customers = [
        make_customer(organization=trio.acme, name=f"c{n}", age=n, department="SALES") for n in range(20)
    ]
    Customer.objects.filter(pk__in=[c.pk for c in customers[:10]]).update(name="theirs")
    for customer in customers[:10]:
        push(trio.alice, trio.acme, [{"_model": "shop.Customer", "id": str(customer.pk), "age": 99}])
    access = access_for(trio.alice, trio.acme)
    records = [{"_model": "shop.Customer", "id": str(c.pk), "name": "mine", "_version": 1} for c in customers]

    with django_assert_max_num_queries(13):
        result = apply_push(access=access, records=records)

    conflicts = result.results[:10]
    assert {r["status"] for r in conflicts} == {"conflict"}
    assert [(r["server"]["name"], r["server"]["age"], r["server"]["department"]) for r in conflicts] == [
        ("theirs", 99, "SALES")
    ] * 10
    assert {r["status"] for r in result.results[10:]} == {"updated"}


def test_current_version_is_applied(trio):
    customer = make_customer(organization=trio.acme, name="v1")

    result = push(
        trio.alice,
        trio.acme,
        [{"_model": "shop.Customer", "id": str(customer.pk), "name": "v2", "_version": 1}],
    )

    assert (result.results[0]["status"], result.results[0]["_version"]) == ("updated", 2)


def test_atomic_push_with_a_failure_writes_nothing(trio):
    records = [
        {"_model": "shop.Customer", "id": UUID_A, "name": "Fine"},
        {"_model": "shop.Customer", "id": UUID_B, "name": ""},
    ]

    result = push(trio.alice, trio.acme, records, atomic=True)

    assert (result.status, result.atomic_rejected, result.applied) == ("error", True, False)
    assert [r["status"] for r in result.results] == ["created", "rejected"]
    assert Customer.objects.count() == 0
    assert SyncRecord.objects.count() == 0
    assert SyncMetadata.objects.count() == 0


def test_atomic_push_without_failures_is_applied(trio):
    result = push(
        trio.alice, trio.acme, [{"_model": "shop.Customer", "id": UUID_A, "name": "Fine"}], atomic=True
    )

    assert (result.status, result.applied) == ("success", True)
    assert Customer.objects.filter(pk=UUID_A).exists()


def test_dry_run_reports_outcomes_and_writes_nothing(trio):
    customer = make_customer(organization=trio.acme, name="Keep")
    records = [
        {"_model": "shop.Customer", "id": UUID_A, "name": "New"},
        {"_model": "shop.Customer", "id": str(customer.pk), "name": "Changed"},
        {"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True},
    ]

    result = push(trio.alice, trio.acme, records[:2], dry_run=True)
    deletion = push(trio.alice, trio.acme, records[2:], dry_run=True)

    customer.refresh_from_db()
    assert [r["status"] for r in result.results + deletion.results] == ["created", "updated", "deleted"]
    assert all("_version" not in r for r in result.results + deletion.results)
    assert customer.name == "Keep"
    assert list(Customer.objects.all()) == [customer]
    assert version_of(customer) == 1


def test_customer_and_its_order_can_be_created_in_one_push(trio):
    records = [
        {"_model": "shop.Order", "customer": UUID_A, "amount": "5.00"},
        {"_model": "shop.Customer", "id": UUID_A, "name": "New"},
    ]

    result = push(trio.alice, trio.acme, records)

    assert [r["status"] for r in result.results] == ["created", "created"]
    assert Order.objects.get().customer_id == uuid.UUID(UUID_A)


def test_order_pointing_at_a_failed_create_of_the_same_push_is_rejected(trio):
    records = [
        {"_model": "shop.Customer", "id": UUID_A, "name": ""},
        {"_model": "shop.Order", "customer_id": UUID_A, "amount": "5.00"},
    ]

    result = push(trio.alice, trio.acme, records)

    assert result.results[1]["status"] == "rejected"
    assert result.results[1]["errors"] == {"customer_id": ["No row with this id is available to you."]}
    assert Order.objects.count() == 0


def test_foreign_key_to_a_row_deleted_in_the_same_push_is_rejected(trio):
    customer = make_customer(organization=trio.acme)
    records = [
        {"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True},
        {"_model": "shop.Report", "customer": str(customer.pk), "report_type": "SUMMARY"},
    ]

    result = push(trio.alice, trio.acme, records)

    assert [r["status"] for r in result.results] == ["deleted", "rejected"]
    assert Report.objects.count() == 0


def test_same_row_twice_in_one_push_applies_the_first_only(trio):
    records = [
        {"_model": "shop.Customer", "id": UUID_A, "name": "first"},
        {"_model": "shop.customer", "id": UUID_A, "name": "second"},
    ]

    result = push(trio.alice, trio.acme, records)

    assert [r["status"] for r in result.results] == ["created", "rejected"]
    assert Customer.objects.get().name == "first"


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"age": "forty"}, {"age": ["Give a whole number."]}),
        ({"age": True}, {"age": ["Give a whole number."]}),
        ({"age": 1.5}, {"age": ["Give a whole number."]}),
        ({"age": -1}, {"age": ["Ensure this value is greater than or equal to 0."]}),
        ({"age": 10**30}, {"age": [f"Ensure this value is less than or equal to {AGE_MAX}."]}),
        ({"name": 5}, {"name": ["Give a text value."]}),
        ({"name": ["x"]}, {"name": ["Give a single value, not a list or an object."]}),
        ({"name": {"a": 1}}, {"name": ["Give a single value, not a list or an object."]}),
        ({"name": None}, {"name": ["This field cannot be null."]}),
        ({"name": ""}, {"name": ["This field cannot be blank."]}),
        ({"name": "x" * 201}, {"name": ["Ensure this value has at most 200 characters (it has 201)."]}),
        ({"name": "a\x00b"}, {"name": [NUL_CHARACTER]}),
        ({"department": "NOPE"}, {"department": ["Value 'NOPE' is not a valid choice."]}),
        ({"bogus": 1}, {"bogus": ["Unknown field."]}),
        ({"updated_at": "2026-01-01T00:00:00Z"}, {"updated_at": ["This field is set by the server."]}),
        ({"assigned_manager": "x"}, {"assigned_manager": ["Give a whole number."]}),
        ({"assigned_manager": True}, {"assigned_manager": ["Give a whole number."]}),
    ],
)
def test_wrong_values_are_rejected_field_by_field_and_nothing_is_written(trio, values, errors):
    record = {"_model": "shop.Customer", "name": "Valid", **values}

    result = push(trio.alice, trio.acme, [record])

    assert result.results[0]["status"] == "rejected"
    assert result.results[0]["errors"] == errors
    assert Customer.objects.count() == 0


def test_errors_found_while_reading_and_validating_are_reported_together(trio):
    result = push(trio.alice, trio.acme, [{"_model": "shop.Customer", "name": "", "age": "x", "bogus": 1}])

    assert result.results[0]["errors"] == {
        "age": ["Give a whole number."],
        "bogus": ["Unknown field."],
        "name": ["This field cannot be blank."],
    }


def test_order_without_its_required_customer_is_rejected(trio):
    result = push(trio.alice, trio.acme, [{"_model": "shop.Order", "amount": "1.00"}])

    assert result.results[0]["errors"] == {"customer": ["This field cannot be null."]}


def test_tenant_field_may_name_the_own_organization_only(trio):
    records = [
        {"_model": "shop.Customer", "id": UUID_A, "name": "Own", "organization": trio.acme.pk},
        {"_model": "shop.Customer", "id": UUID_B, "name": "Other", "organization_id": trio.globex.pk},
    ]

    result = push(trio.alice, trio.acme, records)

    assert result.results[0]["status"] == "created"
    assert result.results[1]["errors"] == {
        "organization_id": ["This field is set by the server to your organization."]
    }
    assert list(Customer.objects.values_list("name", "organization")) == [("Own", trio.acme.pk)]


def test_read_only_fields_from_settings_are_server_owned(trio, settings):
    settings.SBSYNC = {**settings.SBSYNC, "READ_ONLY_FIELDS": {"shop.Customer": ["age"]}}

    result = push(trio.alice, trio.acme, [{"_model": "shop.Customer", "name": "X", "age": 3}])

    assert result.results[0]["errors"] == {"age": ["This field is set by the server."]}


def test_malformed_keys_and_meta_fields_are_rejected(trio):
    records = [
        {"_model": "shop.Customer", "id": "not-a-uuid", "name": "X"},
        {"_model": "shop.Order", "id": 2**70, "amount": "1.00"},
        {"_model": "shop.Customer", "name": "X", "_version": "3"},
        {"_model": "shop.Customer", "name": "X", "_deleted": "yes"},
        {"_model": "shop.Customer", "_deleted": True},
        {"_model": "shop.Customer", "id": UUID_A, "pk": UUID_B, "name": "X"},
    ]

    result = push(trio.alice, trio.acme, records)

    assert [r["errors"] for r in result.results] == [
        {"id": ["This id cannot be used."]},
        {"id": ["This id cannot be used."]},
        {"_version": ["Give the version you last received (a whole number)."]},
        {"_deleted": ["Give true or false."]},
        {"id": ["Give the id of the row to delete."]},
        {"id": ["Give the primary key once."]},
    ]
    assert Customer.objects.count() == Order.objects.count() == 0


def test_shared_models_are_pull_only(trio):
    result = push(
        trio.alice, trio.acme, [{"_model": "shop.Product", "sku": "X-1", "name": "X", "price": "1.00"}]
    )

    assert result.results[0]["status"] == "forbidden"
    assert Product.objects.count() == 0


def test_sync_metadata_counts_applied_records_per_model(trio):
    push(trio.alice, trio.acme, [{"_model": "shop.Customer", "id": UUID_A, "name": "A"}])

    push(
        trio.alice,
        trio.acme,
        [{"_model": "shop.Customer", "id": UUID_A, "name": "B"}, {"_model": "shop.Customer", "name": ""}],
    )

    metadata = SyncMetadata.objects.get(organization=trio.acme, model_name="shop.Customer")
    assert metadata.total_synced == 2


def test_unique_conflicts_checks_the_table_and_the_batch(db):
    make_product(sku="TAKEN")
    rows = [
        (0, Product(sku="TAKEN", name="a", price=1)),
        (1, Product(sku="FREE", name="b", price=1)),
        (2, Product(sku="FREE", name="c", price=1)),
        (3, Product(sku="OTHER", name="d", price=1)),
    ]

    errors = unique_conflicts(Product, rows)

    assert errors == {
        0: {"sku": ["A row with this value already exists."]},
        2: {"sku": ["A row with this value already exists."]},
    }


def test_unique_conflicts_lets_a_row_keep_its_own_value(db):
    product = make_product(sku="MINE")

    errors = unique_conflicts(Product, [(0, Product(pk=product.pk, sku="MINE", name="renamed", price=1))])

    assert errors == {}


def test_convert_wants_time_zones_and_refuses_nul_in_json():
    with pytest.raises(Exception) as naive:
        convert(models.DateTimeField(), "2026-01-31T10:00:00")
    with pytest.raises(Exception) as nul:
        convert(models.JSONField(), {"a": ["ok", "b\x00"]})

    assert naive.value.messages == [NAIVE_DATETIME]
    assert nul.value.messages == [NUL_CHARACTER]
    assert convert(models.DateTimeField(), "2026-01-31T10:00:00+01:00") == datetime(
        2026, 1, 31, 9, tzinfo=UTC
    )


def test_rows_the_database_refuses_are_rejected_one_by_one_and_the_rest_written(trio):
    access = access_for(trio.alice, trio.acme)
    good = Create(Read(index=0, record={}, model=Customer), Customer(name="ok", organization=trio.acme))
    bad = Create(Read(index=1, record={}, model=Customer), Customer(name=None, organization=trio.acme))

    written = write_rows(access, [good, bad])

    assert written == [good]
    assert bad.item.extra == {"errors": {"non_field_errors": [REFUSED]}}
    assert list(Customer.objects.values_list("name", flat=True)) == ["ok"]
