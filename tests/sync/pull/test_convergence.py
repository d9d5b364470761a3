"""Convergence, property-based: whatever happens to the rows and to the role filters, and however the
pulls in between are cut, a client that pulls until has_more is false holds exactly the rows its user may
see, field for field.

Writes go through the ORM (the change index records them from Django's signals, as for admin and shell
writes). What a user may see is computed here from the raw rows, the raw permission rows and the raw
filter definitions, by a small evaluator of its own, never by sbsync's access code.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbsync.demo.shop.models import Customer, Order
from sbsync.enums import Action
from sbsync.models import DataFilter, Membership, ModelPermission
from tests.factories import make_group, make_membership, make_permission, make_user
from tests.pulling import Replica

CUSTOMER, ORDER = "shop.Customer", "shop.Order"
LABELS = [CUSTOMER, ORDER]
DEPARTMENTS = ["SALES", "SUPPORT", "FINANCE", ""]
FILTER_SLOTS = {
    "members: own customers": (
        "Members",
        CUSTOMER,
        {"field": "assigned_manager", "operator": "exact", "value": "$user"},
    ),
    "members: paid orders": ("Members", ORDER, {"field": "status", "operator": "exact", "value": "PAID"}),
    "support: departments": (
        "Support",
        CUSTOMER,
        {"field": "department", "operator": "in", "value": ["SUPPORT"]},
    ),
    "support: not cancelled": ("Support", ORDER, {"field": "status", "operator": "ne", "value": "CANCELLED"}),
}
CLIENTS = ["alice", "bob", "bob-tablet", "dave", "charlie"]

index = st.integers(min_value=0, max_value=10_000)
operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.sampled_from(["acme", "globex"]),
        st.sampled_from(DEPARTMENTS),
        st.sampled_from([None, "alice", "bob", "dave"]),
    ),
    st.tuples(
        st.just("update"), index, st.sampled_from(["department", "manager", "name", "organization"]), index
    ),
    st.tuples(st.just("delete"), index),
    st.tuples(st.just("order"), index, st.sampled_from(["PENDING", "PAID", "CANCELLED"])),
    st.tuples(st.just("order-status"), index, st.sampled_from(["PENDING", "PAID", "CANCELLED"])),
    st.tuples(st.just("order-delete"), index),
    st.tuples(
        st.just("filter"),
        st.sampled_from(sorted(FILTER_SLOTS)),
        st.sampled_from(["add", "add", "remove", "toggle"]),
    ),
    st.tuples(
        st.just("filter"),
        st.sampled_from(sorted(FILTER_SLOTS)),
        st.sampled_from(["add", "add", "remove", "toggle"]),
    ),
    st.tuples(
        st.just("filter-edit"),
        st.lists(st.sampled_from(DEPARTMENTS[:3]), min_size=1, max_size=3, unique=True),
    ),
    st.tuples(st.just("regroup"), st.sampled_from(["bob", "dave"]), st.sampled_from(["Members", "Support"])),
    st.tuples(st.just("pull"), st.sampled_from(CLIENTS), st.integers(min_value=1, max_value=50)),
)


class World:
    """The users, groups and organizations of one example; rows are created by the operations."""

    def __init__(self, trio) -> None:
        self.orgs = {"acme": trio.acme, "globex": trio.globex}
        self.groups = {"Owners": trio.owners, "Members": trio.members, "Support": make_group("Support")}
        dave = make_user(username="dave")
        make_membership(user=dave, organization=trio.acme, group=self.groups["Support"])
        self.users = {"alice": trio.alice, "bob": trio.bob, "dave": dave, "charlie": trio.charlie}
        for group in ("Members", "Support"):
            for label in LABELS:
                make_permission(
                    organization=trio.acme, group=self.groups[group], model_label=label, actions=[Action.PULL]
                )
        self.filters: dict[str, DataFilter] = {}
        self.replicas = {
            "alice": Replica(trio.alice, trio.acme, LABELS),
            "bob": Replica(trio.bob, trio.acme, [ORDER, CUSTOMER]),
            "bob-tablet": Replica(trio.bob, trio.acme, LABELS),
            "dave": Replica(dave, trio.acme, LABELS),
            "charlie": Replica(trio.charlie, trio.globex, [ORDER, CUSTOMER]),
        }
        self.counter = 0

    def pick(self, model, n):
        rows = list(model.objects.order_by("pk").values_list("pk", flat=True))
        return model.objects.get(pk=rows[n % len(rows)]) if rows else None

    def apply(self, op) -> None:
        kind, *args = op
        self.counter += 1
        if kind == "create":
            org, department, manager = args
            Customer.objects.create(
                organization=self.orgs[org],
                name=f"customer {self.counter}",
                department=department,
                assigned_manager=self.users.get(manager),
            )
        elif kind == "update" and (customer := self.pick(Customer, args[0])):
            field, n = args[1], args[2]
            if field == "department":
                customer.department = DEPARTMENTS[n % len(DEPARTMENTS)]
            elif field == "manager":
                customer.assigned_manager = [None, *self.users.values()][n % 5]
            elif field == "name":
                customer.name = f"renamed {self.counter}"
            else:
                customer.organization = list(self.orgs.values())[n % 2]
            customer.save()
        elif kind == "delete" and (customer := self.pick(Customer, args[0])):
            customer.delete()
        elif kind == "order" and (customer := self.pick(Customer, args[0])):
            Order.objects.create(
                customer=customer,
                organization=customer.organization,
                amount=Decimal(self.counter),
                status=args[1],
            )
        elif kind == "order-status" and (order := self.pick(Order, args[0])):
            order.status = args[1]
            order.save()
        elif kind == "order-delete" and (order := self.pick(Order, args[0])):
            order.delete()
        elif kind == "filter":
            self.change_filter(*args)
        elif kind == "filter-edit" and (existing := self.filters.get("support: departments")):
            existing.condition = {**existing.condition, "value": args[0]}
            existing.save()
        elif kind == "regroup":
            membership = Membership.objects.get(user=self.users[args[0]], organization=self.orgs["acme"])
            membership.group = self.groups[args[1]]
            membership.save()
        elif kind == "pull":
            self.replicas[args[0]].pull(batch_size=args[1])

    def change_filter(self, slot: str, action: str) -> None:
        group, label, condition = FILTER_SLOTS[slot]
        existing = self.filters.get(slot)
        if action == "add" and existing is None:
            self.filters[slot] = DataFilter.objects.create(
                organization=self.orgs["acme"],
                group=self.groups[group],
                model_label=label,
                name=slot,
                condition=condition,
            )
        elif action == "remove" and existing is not None:
            existing.delete()
            del self.filters[slot]
        elif action == "toggle" and existing is not None:
            existing.is_active = not existing.is_active
            existing.save()


def holds(row: dict, condition: dict, user, model) -> bool:
    """Our own reading of a filter condition against a raw row."""
    value = user.pk if condition["value"] == "$user" else condition["value"]
    actual = row[model._meta.get_field(condition["field"]).attname]
    if condition["operator"] == "exact":
        return actual == value
    if condition["operator"] == "ne":
        return actual != value
    assert condition["operator"] == "in"
    return actual in value


def expected_view(user, organization, label: str) -> dict[str, dict]:
    """The rows of ``label`` that ``user`` may see in ``organization``, from raw rows and raw settings."""
    model = apps.get_model(label)
    group_id = (
        Membership.objects.filter(user=user, organization=organization)
        .values_list("group_id", flat=True)
        .get()
    )
    if not ModelPermission.objects.filter(
        organization=organization, group_id=group_id, model_label=label, can_pull=True
    ).exists():
        return {}
    conditions = list(
        DataFilter.objects.filter(
            organization=organization, group_id=group_id, model_label=label, is_active=True
        ).values_list("condition", flat=True)
    )
    fields = model._meta.concrete_fields
    rows = model.objects.filter(organization=organization).values(*(f.attname for f in fields))
    return {
        str(row[model._meta.pk.attname]): {f.name: row[f.attname] for f in fields}
        for row in rows
        if all(holds(row, c, user, model) for c in conditions)
    }


customer_spec = st.tuples(
    st.sampled_from(["acme", "acme", "globex"]),
    st.sampled_from(DEPARTMENTS),
    st.sampled_from([None, "alice", "bob", "dave"]),
    st.sampled_from([None, "PENDING", "PAID", "CANCELLED"]),
)
batch = st.integers(min_value=1, max_value=50)


@settings(
    max_examples=50 if connection.vendor == "sqlite" else 25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    existing=st.lists(customer_spec, min_size=2, max_size=12),
    first_batches=st.lists(batch, min_size=5, max_size=5),
    operations=st.lists(operation, min_size=1, max_size=30),
    final_batches=st.lists(batch, min_size=5, max_size=5),
)
@pytest.mark.slow
def test_every_replica_converges_to_exactly_the_rows_its_user_may_see(
    trio, existing, first_batches, operations, final_batches
):
    with transaction.atomic():
        cache.clear()
        world = World(trio)
        for org, department, manager, order_status in existing:
            world.apply(("create", org, department, manager))
            if order_status:
                world.apply(("order", -1, order_status))
        for name, batch_size in zip(CLIENTS, first_batches, strict=True):
            world.replicas[name].pull(batch_size=batch_size)

        for op in operations:
            world.apply(op)
        for name, batch_size in zip(CLIENTS, final_batches, strict=True):
            world.replicas[name].pull_to_end(batch_size=batch_size)

        for name, replica in world.replicas.items():
            for label in LABELS:
                assert replica.of(label) == expected_view(replica.user, replica.organization, label), (
                    name,
                    label,
                )
        transaction.set_rollback(True)
