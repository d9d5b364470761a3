"""The seed README's "Example Usage" client, run as written (requests, a form login, a Bearer push)
against a live server, with the demo's app label (``shop`` for the seed's ``myapp``) and demo users."""

from __future__ import annotations

import pytest
import requests

from sbsync.demo.shop.models import Customer, Report
from sbsync.enums import Action
from tests.factories import (
    make_customer,
    make_group,
    make_membership,
    make_organization,
    make_permission,
    make_user,
)

DEMO_PASSWORD = "sbsync-demo"


@pytest.fixture
def demo(transactional_db):
    """john_manager (Managers of Acme Corporation: push/pull, create, update, no delete, as in the seed's
    matrix) and bob_analyst (Analysts of City University, allowed to push reports)."""
    acme = make_organization(name="Acme Corporation", slug="acme-corp")
    university = make_organization(name="City University", slug="city-university")
    managers, analysts = make_group("Managers"), make_group("Analysts")
    john = make_user(username="john_manager", password=DEMO_PASSWORD)
    bob = make_user(username="bob_analyst", password=DEMO_PASSWORD)
    make_membership(user=john, organization=acme, group=managers)
    make_membership(user=bob, organization=university, group=analysts)
    for label in ("shop.Customer", "shop.Order", "shop.Report"):
        make_permission(
            organization=acme,
            group=managers,
            model_label=label,
            actions=[Action.PUSH, Action.PULL, Action.CREATE, Action.UPDATE, Action.READ],
        )
    make_permission(
        organization=university,
        group=analysts,
        model_label="shop.Customer",
        actions=[Action.PULL, Action.READ],
    )
    make_permission(
        organization=university,
        group=analysts,
        model_label="shop.Report",
        actions=[Action.PUSH, Action.PULL, Action.CREATE, Action.READ],
    )
    return john, bob, university


def test_seed_example_client_logs_in_with_a_form_and_pushes_with_bearer(live_server, demo):
    john, _, _ = demo
    base = f"{live_server.url}/api/sync"

    # Get authentication token
    auth_response = requests.post(
        f"{base}/auth/token/", {"username": "john_manager", "password": DEMO_PASSWORD}, timeout=10
    )
    token = auth_response.json()["token"]
    # Push data (with multi-tenant permissions)
    headers = {"Authorization": f"Bearer {token}"}
    push_data = {
        "data": [
            {
                "_model": "shop.Customer",
                "name": "John Doe",
                "department": "SALES",
                "assigned_manager_id": john.pk,
            }
        ]
    }
    response = requests.post(f"{base}/push/", json=push_data, headers=headers, timeout=10)

    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["success_count"], body["error_count"]) == ("success", 1, 0)
    assert body["processed_models"] == {"shop.Customer": {"created": 1, "updated": 0, "deleted": 0}}
    customer = Customer.objects.get()
    assert (customer.name, customer.department, customer.assigned_manager, customer.organization.slug) == (
        "John Doe",
        "SALES",
        john,
        "acme-corp",
    )


def test_seed_multi_tenant_example_analyst_pushes_a_report(live_server, demo):
    _, _, university = demo
    customer = make_customer(organization=university)
    base = f"{live_server.url}/api/sync"
    token = requests.post(
        f"{base}/auth/token/", {"username": "bob_analyst", "password": DEMO_PASSWORD}, timeout=10
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    response = requests.post(
        f"{base}/push/",
        json={
            "data": [
                {
                    "_model": "shop.Report",
                    "customer_id": str(customer.pk),
                    "report_type": "ANALYSIS",
                    "results": "Positive",
                }
            ]
        },
        headers=headers,
        timeout=10,
    )
    delete = requests.post(
        f"{base}/push/",
        json={"data": [{"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True}]},
        headers=headers,
        timeout=10,
    )

    assert response.json()["status"] == "success"
    assert Report.objects.get().results == "Positive"
    assert (delete.status_code, delete.json()["results"][0]["status"]) == (403, "forbidden")
    assert Customer.objects.filter(pk=customer.pk).exists()
