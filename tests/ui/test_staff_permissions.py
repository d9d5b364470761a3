"""Staff powers follow Django's permission system, as in the admin: a staff account without permissions
gets 403 on every page and every write, and each permission opens exactly its part. Superusers keep all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from sbsync.models import DataFilter, DiscoveryConfig, Membership, ModelPermission, Organization, ServiceToken
from tests.factories import grant, make_filter, make_user
from tests.ui.conftest import url_of
from tests.ui.test_access import GET_ROUTES, POST_ROUTES, PUBLIC
from tests.ui.test_audit_trail import table_rows

WRITES = sorted(set(POST_ROUTES) - PUBLIC - {"logout"})

# What each single permission opens; every other page stays 403 for it. (organization-detail shows the
# members too, so it needs view_organization and view_membership; the audit trail opens with any one of
# the audited models and lists only those.)
PAGES_OF = {
    "view_synclog": {"dashboard", "sync-logs", "sync-log-detail"},
    "view_modelpermission": {"permission-matrix", "audit-trails"},
    "view_datafilter": {"data-filters", "data-filter-edit", "audit-trails"},
    "add_datafilter": {"data-filter-add"},
    "view_discoveryconfig": {"model-discovery", "model-discovery-preview", "audit-trails"},
    "view_performancemetrics": {"metrics"},
    "view_organization": {"organizations", "audit-trails"},
    "view_membership": {"audit-trails"},
    "view_servicetoken": {"tokens"},
}
# The permissions that open each write, and nothing else.
WRITES_OF = {
    ("add_modelpermission", "change_modelpermission"): {
        "permission-matrix",
        "permission-cell",
        "permission-bulk",
        "permission-undo",
    },
    ("add_datafilter",): {"data-filter-add"},
    ("change_datafilter",): {"data-filter-edit"},
    ("delete_datafilter",): {"data-filter-delete"},
    ("change_discoveryconfig",): {"model-discovery"},
    ("add_organization",): {"organizations"},
    ("change_organization",): {"organization-detail"},
    ("add_membership",): {"membership-add"},
    ("change_membership",): {"membership-edit"},
    ("delete_membership",): {"membership-delete"},
    ("add_servicetoken",): {"tokens"},
    ("change_servicetoken",): {"token-revoke"},
}


def client_with(*codenames: str, superuser: bool = False) -> Client:
    user = grant(
        make_user(username="limited", is_staff=True, is_superuser=superuser),
        *(f"sbsync.{c}" for c in codenames),
    )
    client = Client()
    client.force_login(user)
    return client


def state() -> tuple:
    return (
        list(DataFilter.objects.values_list("pk", "name", "is_active")),
        list(Membership.objects.values_list("pk", "group_id", "is_active")),
        list(ModelPermission.objects.values_list("pk", "can_pull", "can_push", "can_delete")),
        list(Organization.objects.values_list("pk", "name", "is_active")),
        DiscoveryConfig.objects.count(),
        list(ServiceToken.objects.values_list("pk", "name")),
    )


# A write body every form of the UI reads something from (the refusal must come before any of it).
WRITE_BODY = {
    "name": "changed",
    "organization": "acme",
    "username": "limited",
    "issue-username": "limited",
    "issue-name": "x",
    "issue-lifetime_days": "30",
    "new-name": "New",
    "new-slug": "new",
    "reset": "1",
}


@pytest.mark.parametrize("name", GET_ROUTES)
def test_staff_without_permissions_gets_403_on_every_page(objects, name):
    response = client_with().get(url_of(name, objects))

    assert response.status_code == 403


@pytest.mark.parametrize("name", WRITES)
def test_staff_without_permissions_gets_403_on_every_write_and_changes_nothing(objects, name):
    before = state()

    response = client_with().post(url_of(name, objects), WRITE_BODY)

    assert response.status_code == 403
    assert state() == before


@pytest.mark.parametrize("codename", sorted(PAGES_OF))
def test_each_view_permission_opens_exactly_its_pages(objects, codename):
    client = client_with(codename)

    opened = {name for name in GET_ROUTES if client.get(url_of(name, objects)).status_code != 403}

    assert opened == PAGES_OF[codename]


def test_organization_detail_opens_with_view_organization_and_view_membership(objects):
    client = client_with("view_organization", "view_membership")

    response = client.get(url_of("organization-detail", objects))

    assert response.status_code == 200


@pytest.mark.parametrize("codenames", sorted(WRITES_OF))
def test_each_change_permission_opens_exactly_its_writes(objects, codenames):
    client = client_with(*codenames)

    refused = {}
    for name in WRITES:
        before = state()
        status = client.post(url_of(name, objects), WRITE_BODY).status_code
        refused[name] = status == 403
        if status == 403:
            assert state() == before, name

    assert {name for name, no in refused.items() if not no} == WRITES_OF[codenames]


def test_every_permission_of_sbsync_is_tried_above(db):
    codenames = set(
        Permission.objects.filter(content_type__app_label="sbsync").values_list("codename", flat=True)
    )
    tried = set(PAGES_OF) | {c for codes in WRITES_OF for c in codes}

    assert tried <= codenames


@pytest.mark.parametrize("name", GET_ROUTES)
def test_superuser_without_explicit_permissions_opens_every_page(objects, name):
    response = client_with(superuser=True).get(url_of(name, objects))

    assert response.status_code == 200


def test_filter_write_needs_change_not_view(objects):
    data_filter = DataFilter.objects.get()
    client = client_with("view_datafilter")

    page = client.get(reverse("sbsync:data-filter-edit", args=[data_filter.pk]))
    write = client.post(reverse("sbsync:data-filter-edit", args=[data_filter.pk]), {"name": "renamed"})

    assert (page.status_code, write.status_code) == (200, 403)
    assert DataFilter.objects.get().name == data_filter.name


def test_audit_trail_lists_only_the_models_the_user_may_view(trio):
    make_filter(organization=trio.acme, name="hidden-from-nobody")

    rows = table_rows(client_with("view_datafilter").get(reverse("sbsync:audit-trails")).content.decode())

    assert rows and all(" Data filter " in row for row in rows)
    assert Organization.history.count() > 0
