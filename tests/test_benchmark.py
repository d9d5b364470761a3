from __future__ import annotations

import os
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sbsync.benchmark.bare import LABEL as BARE_LABEL
from sbsync.benchmark.bare import PREFIX as BARE_PREFIX
from sbsync.benchmark.bare.models import BareRecord
from sbsync.benchmark.compare import BARE, SBSYNC, Target, figures, paired_ratio, ratio, run_rounds
from sbsync.benchmark.servers import ServerSampler
from sbsync.benchmark.workload import (
    STATEMENTS_HEADER,
    ApiClient,
    BenchmarkError,
    Outcome,
    Phase,
    RecordMaker,
    create_baseline_account,
    create_benchmark_account,
    run_workload,
    seed_rows,
)
from sbsync.demo.shop.models import Customer, Order, Report
from sbsync.discovery import describe_model
from sbsync.models import DataFilter, ModelPermission, Organization

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
    sampler = ServerSampler(os.getpid())
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


@pytest.fixture
def benchmark_urls(settings):
    settings.ROOT_URLCONF = "sbsync.benchmark.urls"


def test_the_bare_baseline_upserts_every_pushed_row_and_pages_them_all_by_keyset(live_server, benchmark_urls):
    account = create_baseline_account()
    client = ApiClient(f"{live_server.url}/{BARE_PREFIX}", account.organization)
    client.login(account.username, account.password)

    outcome = run_workload(client, label=BARE_LABEL, records=23, batch=5, sampler=None)
    client.close()

    rows = BareRecord.objects.filter(organization__slug=account.organization)
    assert sorted(rows.values_list("name", "version")) == sorted((f"bench {n} updated", 2) for n in range(23))
    assert (outcome.pulled, outcome.distinct, outcome.missing, outcome.stale, outcome.count_ok) == (
        23,
        23,
        0,
        0,
        True,
    )
    assert not BareRecord.objects.exclude(organization__slug=account.organization).exists()


def test_the_statement_header_counts_every_statement_of_the_request(settings, benchmark_urls):
    settings.MIDDLEWARE = ["sbsync.benchmark.middleware.count_statements", *settings.MIDDLEWARE]
    account = create_baseline_account()
    records = [{"_model": BARE_LABEL, "id": str(uuid.uuid4()), "name": f"n{n}"} for n in range(3)]

    with CaptureQueriesContext(connection) as queries:
        response = Client().post(
            f"/{BARE_PREFIX}push/",
            {"data": records},
            content_type="application/json",
            headers={"X-Sync-Organization": account.organization},
        )

    assert response.status_code == 200
    # Transaction control the driver does itself (PostgreSQL's BEGIN, commits) is not counted.
    executed = [q for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert int(response[STATEMENTS_HEADER]) == len(executed) > 0
    assert BareRecord.objects.filter(organization__slug=account.organization).count() == 3


def test_rounds_alternate_the_servers_and_report_medians_and_ratios(live_server, benchmark_urls):
    sampler = ServerSampler(os.getpid())
    targets = [
        Target(
            name=BARE,
            url=f"{live_server.url}/{BARE_PREFIX}",
            label=BARE_LABEL,
            sampler=sampler,
            account=create_baseline_account,
            seed=None,
        ),
        Target(
            name=SBSYNC,
            url=f"{live_server.url}/api/sync/",
            label="shop.Customer",
            sampler=sampler,
            account=lambda: create_benchmark_account("shop.Customer"),
            seed=None,
        ),
    ]
    order = []

    outcomes = run_rounds(
        targets,
        rounds=2,
        clients=2,
        records=7,
        batch=3,
        seed_direct=False,
        progress=lambda number, target, outcome: order.append((number, target.name)),
    )

    assert order == [(0, BARE), (0, SBSYNC), (1, SBSYNC), (1, BARE)]
    for runs in outcomes.values():
        assert [(o.pulled, o.expected, o.count_ok) for o in runs] == [(14, 14, True)] * 2
        assert all(p.records == 14 and p.requests > 0 for o in runs for p in o.phases)
    assert Customer.objects.filter(name__startswith="bench ").count() == 7 * 2 * 2
    assert BareRecord.objects.count() == 7 * 2 * 2
    bare, ours = figures(outcomes[BARE], "create"), figures(outcomes[SBSYNC], "create")
    assert bare and ours and ratio(ours.rate, bare.rate) == ours.rate / bare.rate


def test_seeded_rounds_time_only_the_pull_on_both_servers(live_server, benchmark_urls):
    sampler = ServerSampler(os.getpid())
    targets = [
        Target(BARE, f"{live_server.url}/{BARE_PREFIX}", BARE_LABEL, sampler, create_baseline_account, None),
        Target(
            SBSYNC,
            f"{live_server.url}/api/sync/",
            "shop.Customer",
            sampler,
            lambda: create_benchmark_account("shop.Customer"),
            lambda account, count: seed_rows("shop.Customer", account.organization, count),
        ),
    ]

    outcomes = run_rounds(targets, rounds=1, clients=1, records=6, batch=4, seed_direct=True)

    for runs in outcomes.values():
        assert [[p.name for p in o.phases] for o in runs] == [["pull"]]
        assert [(o.pulled, o.count_ok) for o in runs] == [(6, True)]


def test_the_command_refuses_fewer_than_one_client():
    with pytest.raises(CommandError, match="--clients must be at least 1"):
        call_command("sync_benchmark", clients=0)


def test_a_ratio_is_the_median_of_each_rounds_ratio_not_a_ratio_of_medians():
    def runs(*rates):
        return [Outcome(phases=[Phase("create", rate, 1.0)]) for rate in rates]

    ours, theirs = runs(50, 10, 30), runs(100, 100, 30)

    assert paired_ratio(ours, theirs, "create", lambda p: p.rate) == 0.5
    assert paired_ratio(ours, theirs, "pull", lambda p: p.rate) is None


def test_a_filtered_account_pays_for_a_row_filter_that_every_generated_row_passes(live_server):
    account = create_benchmark_account("shop.Customer", filtered=True)
    client = ApiClient(f"{live_server.url}/api/sync/", account.organization)
    client.login(account.username, account.password)

    outcome = run_workload(client, label="shop.Customer", records=9, batch=4, sampler=None)
    client.close()

    organization = Organization.objects.get(slug=account.organization)
    assert DataFilter.objects.get(organization=organization).condition == {
        "field": "name",
        "operator": "ne",
        "value": "-",
    }
    assert (outcome.pulled, outcome.count_ok) == (9, True)
