"""Three replicas of one organization (alice and bob, Managers; sally, Sales, who sees only the customers
assigned to her) make random offline edits; their syncs interleave with edits made on the server and
with the Sales filter switched off and on. At the end every replica equals its user's view, and every
change the server refused (each failed record of each push, as the server's sync log lists them) is in
the conflicts table of the replica that sent it."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbsync.client import LocalError, Replica, RetryPolicy
from sbsync.demo.shop.models import Customer
from sbsync.enums import Action, Operation
from sbsync.models import DataFilter, SyncLog
from tests.client.conftest import replica_view, server_view
from tests.factories import (
    PASSWORD,
    make_customer,
    make_filter,
    make_group,
    make_membership,
    make_organization,
    make_permission,
    make_user,
)

USERS = ("alice", "bob", "sally")
_examples = itertools.count()

step = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(USERS), st.booleans()),
    st.tuples(st.just("update"), st.sampled_from(USERS), st.integers(0, 50), st.integers(0, 120)),
    st.tuples(st.just("delete"), st.sampled_from(USERS[:2]), st.integers(0, 50)),
    st.tuples(st.just("sync"), st.sampled_from(USERS)),
    st.tuples(st.just("server_update"), st.integers(0, 50), st.integers(0, 120)),
    st.tuples(st.just("server_reassign"), st.integers(0, 50)),
    st.tuples(st.just("server_delete"), st.integers(0, 50)),
    st.tuples(st.just("toggle_filter")),
)


def _organization(n: int):
    org = make_organization(name=f"Convergence {n}", slug=f"convergence-{n}")
    managers, sales = make_group(f"Managers {n}"), make_group(f"Sales {n}")
    users = {name: make_user(username=f"{name}-{n}") for name in USERS}
    make_membership(user=users["alice"], organization=org, group=managers)
    make_membership(user=users["bob"], organization=org, group=managers)
    make_membership(user=users["sally"], organization=org, group=sales)
    make_permission(organization=org, group=managers, model_label="shop.Customer", actions=Action.values)
    make_permission(
        organization=org,
        group=sales,
        model_label="shop.Customer",
        actions=[Action.PUSH, Action.PULL, Action.CREATE, Action.UPDATE, Action.READ],
    )
    sales_filter = make_filter(organization=org, group=sales, model_label="shop.Customer")
    for k in range(6):
        make_customer(
            organization=org, name=f"Seed {k}", assigned_manager=users["sally" if k % 2 else "alice"]
        )
    return org, users, sales_filter


def _nth(rows: list, index: int):
    return rows[index % len(rows)] if rows else None


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=5, max_size=25))
def test_replicas_converge_and_every_refused_change_is_in_a_conflicts_table(
    steps, world, sync_server, tmp_path
):
    n = next(_examples)
    org, users, sales_filter = _organization(n)
    replicas = {
        name: Replica(
            str(tmp_path / f"{name}-{n}.sqlite3"),
            url=sync_server.url,
            username=users[name].username,
            password=PASSWORD,
            retry=RetryPolicy(attempts=3, base=0.01, cap=0.05),
            batch_size=7,
            push_batch_size=5,
        )
        for name in USERS
    }
    for replica in replicas.values():
        replica.sync()
    names = itertools.count()
    for item in steps:
        kind = item[0]
        if kind == "create":
            _, who, own = item
            manager = users[who] if own else users["alice" if who == "sally" else "sally"]
            replicas[who].save(
                "shop.Customer", {"name": f"{who} {next(names)}", "assigned_manager": manager.pk}
            )
        elif kind == "update":
            _, who, index, age = item
            row = _nth(list(replicas[who].rows("shop.Customer")), index)
            if row is not None:
                replicas[who].save("shop.Customer", {"id": row["id"], "age": age, "name": f"{row['name']}'"})
        elif kind == "delete":
            _, who, index = item
            row = _nth(list(replicas[who].rows("shop.Customer")), index)
            if row is not None:
                replicas[who].delete("shop.Customer", row["id"])
        elif kind == "sync":
            replicas[item[1]].sync()
        elif kind.startswith("server_"):
            customer = _nth(list(Customer.objects.filter(organization=org).order_by("name", "id")), item[1])
            if customer is None:
                continue
            if kind == "server_update":
                customer.age = item[2]
                customer.save()
            elif kind == "server_reassign":
                current = customer.assigned_manager_id
                customer.assigned_manager = users["alice" if current == users["sally"].pk else "sally"]
                customer.save()
            else:
                customer.delete()
        else:
            sales_filter.is_active = not sales_filter.is_active
            sales_filter.save()

    for _ in range(4):  # until a round changes nothing more
        reports = [replica.sync() for replica in replicas.values()]
        if not any(report.pushed or report.conflicts for report in reports):
            break
    for name, replica in replicas.items():
        assert replica.pending() == 0
        assert replica_view(replica) == server_view(sync_server.url, users[name].username), name

    for name, replica in replicas.items():
        refused = Counter(
            (failure["_model"], failure.get("id"), failure["status"])
            for log in SyncLog.objects.filter(organization=org, user=users[name], operation=Operation.PUSH)
            for failure in log.errors
        )
        recorded = Counter((item["model"], item["pk"], item["kind"]) for item in replica.conflicts())
        assert refused == recorded, name
        replica.close()
    assert not DataFilter.objects.filter(organization=org).exclude(pk=sales_filter.pk).exists()


def test_local_calls_refuse_what_the_role_cannot_do(world, sync_server, tmp_path):
    with Replica(
        str(tmp_path / "sally.sqlite3"), url=sync_server.url, username="sally", password=PASSWORD
    ) as sally:
        sally.sync()
        mine = next(iter(sally.rows("shop.Customer")))
        refusals = {
            "may not delete": lambda: sally.delete("shop.Customer", mine["id"]),
            "no field a client may write named updated_at": lambda: sally.save(
                "shop.Customer", {"id": mine["id"], "updated_at": "2026-01-01T00:00:00Z"}
            ),
            "no field a client may write named colour": lambda: sally.save(
                "shop.Customer", {"colour": "red"}
            ),
            "not a model this replica syncs": lambda: sally.save("shop.Order", {"amount": "1.00"}),
        }
        for message, call in refusals.items():
            with pytest.raises(LocalError, match=message):
                call()
        assert sally.pending() == 0 and sally.get("shop.Customer", mine["id"]) == mine
    with Replica(
        str(tmp_path / "alice.sqlite3"), url=sync_server.url, username="alice", password=PASSWORD
    ) as alice:
        alice.sync()
        with pytest.raises(LocalError, match="server assigns the keys of shop.Order"):
            alice.save("shop.Order", {"amount": "1.00", "customer": mine["id"]})
        with pytest.raises(LocalError, match="shop.Nothing is not a model this replica syncs"):
            list(alice.rows("shop.Nothing"))
        assert alice.pending() == 0
