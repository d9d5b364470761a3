"""Composed fixtures. The tenancy trio: alice (owner of acme), bob (member of acme, role varied per test),
charlie (member of another organization, whose data must never leak)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from sbsync.enums import Action
from sbsync.models import Organization
from tests.factories import (
    grant,
    make_group,
    make_membership,
    make_organization,
    make_permission,
    make_user,
    sbsync_permissions,
)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@dataclass
class Trio:
    acme: Organization
    globex: Organization
    owners: Group
    members: Group
    alice: User
    bob: User
    charlie: User


@pytest.fixture
def trio(db) -> Trio:
    acme = make_organization(name="Acme", slug="acme")
    globex = make_organization(name="Globex", slug="globex")
    owners, members = make_group("Owners"), make_group("Members")
    alice, bob, charlie = (
        make_user(username="alice"),
        make_user(username="bob"),
        make_user(username="charlie"),
    )
    make_membership(user=alice, organization=acme, group=owners)
    make_membership(user=bob, organization=acme, group=members)
    make_membership(user=charlie, organization=globex, group=owners)
    for org in (acme, globex):
        for label in ("shop.Customer", "shop.Order", "shop.Report", "shop.Product"):
            make_permission(organization=org, group=owners, model_label=label, actions=Action.values)
    return Trio(acme, globex, owners, members, alice, bob, charlie)


@pytest.fixture
def staff_user(db) -> User:
    """Staff holding every permission of sbsync's models (not a superuser)."""
    return grant(make_user(username="staff", is_staff=True), *sbsync_permissions())
