"""Fixtures of the client tests: a gunicorn server on the test database, an organization whose users the
replicas log in as, and the server's view of a user read with plain HTTP (not through the client)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.db import connection

from sbsync.enums import Action
from sbsync.models import Organization
from tests.client.servers import Server
from tests.factories import (
    PASSWORD,
    make_customer,
    make_filter,
    make_group,
    make_membership,
    make_order,
    make_organization,
    make_permission,
    make_product,
    make_report,
    make_user,
)

MODELS = ("shop.Customer", "shop.Order", "shop.Report")


@pytest.fixture(scope="session")
def sync_server(django_db_setup, django_db_blocker):
    """One gunicorn server for the session, on the test database (SQLite file or PostgreSQL)."""
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    server = Server(name).start()
    yield server
    server.stop()


@dataclass
class World:
    acme: Organization
    globex: Organization
    users: dict[str, Any]


@pytest.fixture
def world(transactional_db) -> World:
    """acme: alice and bob (Managers: everything on customers, orders, reports; products shared), sally
    (Sales: customers assigned to her only, no deletes). globex: charlie's rows, which must never leak."""
    acme = make_organization(name="Acme", slug="acme")
    globex = make_organization(name="Globex", slug="globex")
    managers, sales = make_group("Managers"), make_group("Sales")
    users = {name: make_user(username=name) for name in ("alice", "bob", "sally", "charlie")}
    for name in ("alice", "bob"):
        make_membership(user=users[name], organization=acme, group=managers)
    make_membership(user=users["sally"], organization=acme, group=sales)
    make_membership(user=users["charlie"], organization=globex, group=managers)
    for org in (acme, globex):
        for label in (*MODELS, "shop.Product"):
            make_permission(organization=org, group=managers, model_label=label, actions=Action.values)
    make_permission(
        organization=acme,
        group=sales,
        model_label="shop.Customer",
        actions=[Action.PUSH, Action.PULL, Action.CREATE, Action.UPDATE, Action.READ],
    )
    make_filter(organization=acme, group=sales, model_label="shop.Customer")
    for n in range(6):
        customer = make_customer(
            organization=acme,
            name=f"Acme {n}",
            age=20 + n,
            assigned_manager=users["sally"] if n % 2 else users["alice"],
        )
        make_order(customer=customer, amount=Decimal(f"{n}.50"))
        if n < 2:
            make_report(customer=customer, results=f"report {n}")
    for n in range(3):
        make_order(customer=make_customer(organization=globex, name=f"Globex {n}"))
    make_product(sku="P-1", name="Widget")
    return World(acme, globex, users)


def server_view(
    url: str, username: str, organization: str | None = None
) -> dict[str, dict[Any, dict[str, Any]]]:
    """What ``username`` may see, pulled to the end with plain HTTP: {label: {pk: row without _model}}."""
    with httpx.Client(base_url=url, timeout=60) as http:
        token = http.post("auth/token/", json={"username": username, "password": PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        if organization:
            headers["X-Sync-Organization"] = organization
        catalogue = http.get("models/", headers=headers).json()
        pks = {m["model"]: m["pk"] for m in catalogue["models"] if m["permissions"]["pull"]}
        view: dict[str, dict[Any, dict[str, Any]]] = {label: {} for label in pks}
        cursors: dict[str, Any] = dict.fromkeys(pks)
        while cursors:
            page = http.post("pull/", json={"models": cursors, "batch_size": 1000}, headers=headers).json()
            for row in page["data"]:
                view[row["_model"]][row[pks[row["_model"]]]] = {k: v for k, v in row.items() if k != "_model"}
            for row in page["deleted"]:
                view[row["_model"]].pop(row[pks[row["_model"]]], None)
            cursors = {label: meta["cursor"] for label, meta in page["metadata"].items() if meta["has_more"]}
        http.post("auth/logout/", headers=headers)
    return view


def replica_view(replica) -> dict[str, dict[Any, dict[str, Any]]]:
    return {
        label: {row[info.pk]: row for row in replica.rows(label)}
        for label, info in replica.models().items()
        if info.pull
    }
