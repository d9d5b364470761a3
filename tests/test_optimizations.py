"""sbsync.optimizations: sb-sync's "Performance Optimizations" API, each name doing real work through
sbsync's machinery. The first tests run the snippets of sb-sync's README unchanged but for the import
path (``sb_sync`` → ``sbsync``) and the names it left for the reader (YourModel, large_dataset, ...)."""

from __future__ import annotations

import logging
import uuid

import psutil
import pytest
from django.core.cache import caches
from django.db import connection

from sbsync import cache as config_cache
from sbsync.demo.shop.models import Customer
from sbsync.models import ConfigGeneration, SyncLog, SyncRecord
from sbsync.optimizations import (
    BulkOperations,
    CacheOptimizer,
    MemoryOptimizer,
    ModelMetadataCache,
    QueryOptimizer,
)
from tests.factories import PASSWORD, make_customer, make_sync_log, make_user
from tests.pulling import Replica

# sb-sync's README, "Performance Optimizations", with sbsync for sb_sync.
BULK_SNIPPET = """
from sbsync.optimizations import BulkOperations

# Bulk create/update with batching
results = BulkOperations.bulk_create_or_update(
    model_class=YourModel,
    data_list=large_dataset,
    batch_size=1000
)
"""
METADATA_SNIPPET = """
from sbsync.optimizations import ModelMetadataCache

# Get cached model fields
fields = ModelMetadataCache.get_model_fields('app.ModelName')
"""
QUERY_SNIPPET = """
from sbsync.optimizations import QueryOptimizer

# Get optimized sync logs
logs = QueryOptimizer.get_optimized_sync_logs(user, organization)

# Count queries with decorator
@QueryOptimizer.count_queries
def my_function():
    # Your code here
    pass
"""
MEMORY_SNIPPET = """
from sbsync.optimizations import MemoryOptimizer

# Monitor memory usage
memory_usage = MemoryOptimizer.get_memory_usage()

# Memory monitoring decorator
@MemoryOptimizer.monitor_memory
def my_function():
    # Your code here
    pass
"""
CACHE_SNIPPET = """
from sbsync.optimizations import CacheOptimizer

# Get or set cache
data = CacheOptimizer.get_or_set_cache('key', lambda: expensive_operation())

# Cache model data
CacheOptimizer.cache_model_data('key', data, timeout=300)
"""


def run_snippet(snippet: str, **names):
    scope = dict(names)
    exec(snippet, scope)  # noqa: S102 - the documented snippet, run as a user would
    return scope


# BulkOperations


def test_the_bulk_snippet_creates_rows_that_get_history_versions_and_reach_a_pull(trio):
    large_dataset = [
        {"name": f"Customer {i}", "department": "SALES", "organization": trio.acme.pk} for i in range(5)
    ]

    scope = run_snippet(BULK_SNIPPET, YourModel=Customer, large_dataset=large_dataset)

    assert scope["results"] | {"error_details": None} == {
        "created": 5,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
        "conflict": 0,
        "rejected": 0,
        "forbidden": 0,
        "errors": 0,
        "error_details": None,
    }
    created = Customer.objects.filter(organization=trio.acme)
    assert sorted(created.values_list("name", flat=True)) == [f"Customer {i}" for i in range(5)]
    assert all(c.history.count() == 1 for c in created)
    entries = SyncRecord.objects.filter(scope=trio.acme.pk, object_pk__in=[str(c.pk) for c in created])
    assert sorted(entries.values_list("version", flat=True)) == [1] * 5
    replica = Replica(trio.alice, trio.acme, ["shop.Customer"])
    replica.pull_to_end()
    assert sorted(r["name"] for r in replica.of("shop.Customer").values()) == [
        f"Customer {i}" for i in range(5)
    ]
    # The other organization's member sees none of them.
    other = Replica(trio.charlie, trio.globex, ["shop.Customer"])
    other.pull_to_end()
    assert other.of("shop.Customer") == {}


def test_bulk_updates_by_primary_key_attributes_history_and_reports_each_row(trio):
    kept = make_customer(organization=trio.acme, name="Kept")
    renamed = make_customer(organization=trio.acme, name="Old name")
    theirs = make_customer(organization=trio.globex, name="Globex's")
    new_id = uuid.uuid4()
    data = [
        {"id": str(renamed.pk), "name": "New name"},
        {"id": str(kept.pk), "name": "Kept"},
        {"id": str(new_id), "name": "Chosen key"},
        {"name": "No age", "age": "old"},
        {"id": str(theirs.pk), "name": "Taken over"},
    ]

    results = BulkOperations.bulk_create_or_update(
        model_class=Customer, data_list=data, batch_size=2, organization=trio.acme, user=trio.alice
    )

    assert (results["created"], results["updated"], results["unchanged"], results["errors"]) == (1, 1, 1, 2)
    assert [(d["index"], d["status"]) for d in results["error_details"]] == [(3, "rejected"), (4, "rejected")]
    assert "age" in results["error_details"][0]["errors"]
    renamed.refresh_from_db()
    theirs.refresh_from_db()
    assert renamed.name == "New name"
    assert renamed.history.first().history_user == trio.alice
    assert Customer.objects.get(pk=new_id).organization == trio.acme
    assert (theirs.name, theirs.organization) == ("Globex's", trio.globex)
    assert not Customer.objects.filter(name__in=["No age", "Taken over"]).exists()


def test_bulk_without_an_organization_takes_each_rows_own_and_rejects_rows_without_one(trio):
    data = [
        {"name": "Acme's", "organization": trio.acme.pk},
        {"name": "Globex's", "organization_id": trio.globex.pk},
        {"name": "Nobody's"},
        {"name": "Nowhere's", "organization": 999_999},
    ]

    results = BulkOperations.bulk_create_or_update(model_class=Customer, data_list=data)

    assert (results["created"], results["rejected"]) == (2, 2)
    assert [d["index"] for d in results["error_details"]] == [2, 3]
    assert results["error_details"][0]["errors"] == {
        "organization": ["Give the row's organization (an organization id), or pass organization=."]
    }
    assert Customer.objects.get(name="Acme's").organization == trio.acme
    assert Customer.objects.get(name="Globex's").organization == trio.globex


def test_bulk_refuses_a_batch_size_below_one(trio):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        BulkOperations.bulk_create_or_update(model_class=Customer, data_list=[], batch_size=0)


# ModelMetadataCache


def test_the_metadata_snippet_gives_the_fields_that_models_serves(trio, client):
    scope = run_snippet(METADATA_SNIPPET.replace("'app.ModelName'", "'shop.Customer'"))

    token = client.post("/api/sync/auth/token/", {"username": "alice", "password": PASSWORD})
    assert token.status_code == 200, token.content
    served = client.get(
        "/api/sync/models/",
        headers={"Authorization": f"Bearer {token.json()['token']}", "X-Sync-Organization": "acme"},
    ).json()
    (customer,) = [m for m in served["models"] if m["model"] == "shop.Customer"]
    assert scope["fields"] == {f["name"]: f for f in customer["fields"]}
    assert scope["fields"]["name"]["max_length"] == 200


def test_model_fields_are_cached_and_follow_configuration_changes(trio, settings):
    ModelMetadataCache.get_model_fields("shop.Customer")
    before = config_cache.lookup_counts()

    assert ModelMetadataCache.get_model_fields("shop.customer")["age"]["read_only"] is False
    assert config_cache.lookup_counts()["hits"] == before.get("hits", 0) + 1

    settings.SBSYNC = {**settings.SBSYNC, "READ_ONLY_FIELDS": {"shop.Customer": ["age"]}}
    assert ModelMetadataCache.get_model_fields("shop.Customer")["age"]["read_only"] is True

    generation = ConfigGeneration.current()
    ModelMetadataCache.invalidate_model_cache()
    assert ConfigGeneration.current() != generation


def test_model_fields_of_a_model_not_enabled_is_a_lookup_error_naming_the_fix(db):
    with pytest.raises(LookupError, match=r"'auth.User' is not a model enabled for sync"):
        ModelMetadataCache.get_model_fields("auth.User")
    with pytest.raises(LookupError, match=r"use sbsync.Organization"):
        ModelMetadataCache.get_model_fields("sb_sync.Organization")


# QueryOptimizer


def test_the_query_snippet_gives_the_logs_the_user_may_see_in_one_query(
    trio, staff_user, caplog, django_assert_num_queries
):
    own = [make_sync_log(user=trio.bob, organization=trio.acme) for _ in range(3)]
    colleagues = make_sync_log(user=trio.alice, organization=trio.acme)
    elsewhere = make_sync_log(user=trio.charlie, organization=trio.globex)
    caplog.set_level(logging.INFO, logger="sbsync.optimizations")

    scope = run_snippet(QUERY_SNIPPET, user=trio.bob, organization=trio.acme)
    with django_assert_num_queries(1):
        seen = [(log.pk, log.user.username, log.organization.slug) for log in scope["logs"]]
    staff = QueryOptimizer.get_optimized_sync_logs(staff_user, trio.acme)
    stranger = QueryOptimizer.get_optimized_sync_logs(make_user(username="stranger"), trio.acme)
    scope["my_function"]()

    assert sorted(seen) == sorted((log.pk, "bob", "acme") for log in own)
    assert {log.pk for log in staff} == {log.pk for log in [*own, colleagues]}
    assert elsewhere.pk not in {log.pk for log in staff}
    assert list(stranger) == []
    assert "my_function ran 0 queries in" in caplog.text


def test_count_queries_logs_the_queries_of_the_call_and_their_time(trio, caplog):
    caplog.set_level(logging.INFO, logger="sbsync.optimizations")

    @QueryOptimizer.count_queries
    def three_queries():
        for _ in range(3):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        return SyncLog.objects.count()

    assert three_queries() == 0
    assert "three_queries ran 4 queries in " in caplog.text


# MemoryOptimizer


def test_the_memory_snippet_measures_and_logs_resident_and_peak_memory(caplog):
    caplog.set_level(logging.INFO, logger="sbsync.optimizations")

    scope = run_snippet(MEMORY_SNIPPET)
    scope["my_function"]()

    rss = psutil.Process().memory_info().rss / (1024 * 1024)
    assert abs(scope["memory_usage"] - rss) < 50
    assert MemoryOptimizer.get_peak_memory_usage() >= MemoryOptimizer.get_memory_usage() * 0.9
    (line,) = [r.getMessage() for r in caplog.records if "my_function" in r.getMessage()]
    assert " MB (" in line and ", peak " in line


# CacheOptimizer


def test_the_cache_snippet_computes_once_and_stores_under_sbsyncs_namespace(settings):
    calls = []

    def expensive_operation():
        calls.append(1)
        return {"answer": 42}

    scope = run_snippet(CACHE_SNIPPET, expensive_operation=expensive_operation)
    again = CacheOptimizer.get_or_set_cache("key", expensive_operation)

    assert (scope["data"], again, len(calls)) == ({"answer": 42}, {"answer": 42}, 1)
    cache = caches[settings.SBSYNC.get("CACHE_ALIAS", "default")]
    assert cache.get("sbsync:data:key") == {"answer": 42}
    assert cache.get("key") is None
    assert CacheOptimizer.get_cached_model_data("key") == {"answer": 42}
    CacheOptimizer.invalidate_model_cache("key")
    assert CacheOptimizer.get_cached_model_data("key") is None
