"""Concurrent pushes on PostgreSQL, each client in its own thread with its own database connection."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction

from sbsync.demo.shop.models import Customer
from sbsync.models import SyncLog, SyncRecord
from sbsync.sync.push.locks import advisory_key
from tests.api.conftest import ApiClient, token_for
from tests.factories import make_customer

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL concurrency")

CLIENTS = 4
RECORDS = 500


def run_at_once(bodies, token):
    """POST each body from its own thread, all released together. Returns the responses in order."""
    barrier = threading.Barrier(len(bodies))
    responses = [None] * len(bodies)

    def worker(n, body):
        try:
            client = ApiClient(token)
            barrier.wait()
            responses[n] = client.post("push/", body)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n, body)) for n, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_four_clients_pushing_the_same_client_keyed_records_end_with_one_whole_version_each(
    transactional_db, trio
):
    keys = [str(uuid.uuid4()) for _ in range(RECORDS)]
    bodies = [
        {
            "data": [
                {"_model": "shop.Customer", "id": key, "name": f"client{c}-{i}", "age": c}
                for i, key in enumerate(keys)
            ]
        }
        for c in range(CLIENTS)
    ]

    responses = run_at_once(bodies, token_for(trio.alice))

    assert [r.status_code for r in responses] == [200] * CLIENTS
    assert all(r.json()["status"] == "success" for r in responses)
    created = sum(r.json()["processed_models"]["shop.Customer"]["created"] for r in responses)
    assert created == RECORDS
    rows = list(Customer.objects.values_list("id", "name", "age"))
    assert len(rows) == RECORDS
    assert {str(pk) for pk, _, _ in rows} == set(keys)
    assert all(name.startswith(f"client{age}-") for _, name, age in rows)
    assert len({age for _, _, age in rows}) == 1, "the last client's push wins as a whole"
    assert SyncRecord.objects.filter(model_label="shop.Customer").count() == RECORDS


def test_one_batch_id_sent_twice_at_once_is_applied_once(transactional_db, trio):
    body = {
        "batch_id": "twin-0001",
        "data": [{"_model": "shop.Customer", "name": f"twin {n}"} for n in range(50)],
    }

    first, second = run_at_once([body, body], token_for(trio.alice))

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert Customer.objects.count() == 50


def test_a_push_that_deadlocks_with_another_writer_is_retried_and_succeeds(transactional_db, trio):
    first, second = (
        make_customer(organization=trio.acme, name="first"),
        make_customer(organization=trio.acme, name="second"),
    )
    holding, push_waits = threading.Event(), threading.Event()
    token = token_for(trio.alice)

    def other_writer():
        """Holds the second row, then wants the push's lock on the first: a cycle PostgreSQL breaks by
        aborting the push (this session waits ten times longer before it checks for deadlocks)."""
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '10s'")
                Customer.objects.select_for_update().get(pk=second.pk)
                holding.set()
                push_waits.wait()
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)", [advisory_key("shop.Customer", str(first.pk))]
                )
        finally:
            connections.close_all()

    writer = threading.Thread(target=other_writer)
    writer.start()
    holding.wait()
    body = {
        "data": [
            {"_model": "shop.Customer", "id": str(c.pk), "name": f"{c.name} pushed"} for c in (first, second)
        ]
    }
    pusher = threading.Thread(
        target=lambda: responses.append(ApiClient(token).post("push/", body)) or connections.close_all()
    )
    responses = []

    pusher.start()
    time.sleep(0.5)
    push_waits.set()
    writer.join()
    pusher.join()

    assert responses[0].status_code == 200
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["first pushed", "second pushed"]
    assert SyncLog.objects.count() == 1
