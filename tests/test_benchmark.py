from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sbsync.benchmark import (
    ApiClient,
    BenchmarkError,
    MemorySampler,
    RecordMaker,
    create_benchmark_account,
    run_workload,
    seed_rows,
)
from sbsync.demo.shop.models import Customer, Order, Report
from sbsync.discovery import describe_model
from sbsync.models import ModelPermission, Organization

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account():
    return create_benchmark_account("shop.Customer")


@pytest.fixture
def client(live_server, account):
    client = ApiClient(f"{live_server.url}/api/sync/", account.organization)
    client.login(account.username, account.password)
    yield client
    client.close()


def test_a_benchmark_account_is_a_fresh_organization_with_every_permission(account):
    organization = Organization.objects.get(slug=account.organization)

    permission = ModelPermission.objects.get(organization=organization)

    assert permission.model_label == "shop.Customer"
    assert all(permission.flags().values())
    assert not Customer.objects.filter(organization=organization).exists()


def test_the_workload_creates_updates_and_pulls_every_row_through_the_api(client, account):
    sampler = MemorySampler(os.getpid())
    sampler.start()

    outcome = run_workload(client, label="shop.Customer", records=23, batch=5, sampler=sampler)
    sampler.stopped.set()

    names = set(
        Customer.objects.filter(organization__slug=account.organization).values_list("name", flat=True)
    )
    assert [p.name for p in outcome.phases] == ["create", "update", "pull"]
    assert (outcome.pulled, outcome.distinct, outcome.missing, outcome.stale, outcome.count_ok) == (
        23,
        23,
        0,
        0,
        True,
    )
    assert names == {f"bench {n} updated" for n in range(23)}
    assert all(p.peak_mb and p.peak_mb > 10 for p in outcome.phases)


def test_seeded_rows_are_only_pulled(client, account):
    seeded = seed_rows("shop.Customer", account.organization, 12)

    outcome = run_workload(client, label="shop.Customer", records=12, batch=5, sampler=None, seeded=seeded)

    assert [p.name for p in outcome.phases] == ["pull"]
    assert (outcome.pulled, outcome.count_ok) == (12, True)


def test_the_count_check_fails_when_a_written_row_is_not_pulled(client, account):
    seeded = seed_rows("shop.Customer", account.organization, 3)

    outcome = run_workload(
        client, label="shop.Customer", records=4, batch=5, sampler=None, seeded={**seeded, "missing": "x"}
    )

    assert (outcome.missing, outcome.count_ok) == (1, False)


def test_records_are_generated_from_the_model_description():
    maker = RecordMaker({**describe_model(Customer), "model": "shop.Customer"})

    record = maker.create(7)

    assert record["_model"] == "shop.Customer" and record["name"] == "bench 7"
    assert len(record["id"]) == 36
    assert maker.update(7, record["id"], 1) == {
        "_model": "shop.Customer",
        "id": record["id"],
        "name": "bench 7 updated",
        "_version": 1,
    }


def test_a_model_with_a_required_foreign_key_or_no_free_text_cannot_be_generated():
    with pytest.raises(BenchmarkError, match="required field customer"):
        RecordMaker({**describe_model(Report), "model": "shop.Report"})
    with pytest.raises(BenchmarkError, match="no free text field"):
        RecordMaker({**describe_model(Order), "model": "shop.Order"})


def test_the_command_measures_a_running_server_and_prints_each_phase(live_server, account):
    out = StringIO()

    call_command(
        "sync_benchmark",
        url=f"{live_server.url}/api/sync/",
        username=account.username,
        password=account.password,
        organization=account.organization,
        records=15,
        batch=4,
        server_pid=os.getpid(),
        stdout=out,
    )

    text = out.getvalue()
    for phase in ("create ", "update ", "pull "):
        assert f"\n{phase}" in text
    assert (
        "count check: pulled 15 rows (15 distinct) for 15 written; missing 0, not in their latest state 0: OK"
        in text
    )
    assert "server memory:" in text


def test_the_command_refuses_a_url_without_credentials(live_server):
    with pytest.raises(CommandError, match="--username and --password"):
        call_command("sync_benchmark", url=f"{live_server.url}/api/sync/", records=5)
