from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group, User

from sbsync.access import access_for
from sbsync.demo.shop.models import Customer, Order, Product, Report
from sbsync.demo.shop.seed import ID_NAMESPACE, SALES_FILTER
from sbsync.models import DataFilter, Membership, ModelPermission, Organization, SyncRecord
from tests.management.helpers import run, snapshot

pytestmark = pytest.mark.django_db


def flags(slug, group, label):
    row = ModelPermission.objects.get(organization__slug=slug, group__name=group, model_label=label)
    return {action for action, granted in row.flags().items() if granted}


def test_seed_demo_creates_the_seed_organizations_and_users():
    run("seed_demo")

    assert list(Organization.objects.order_by("slug").values_list("slug", "name")) == [
        ("acme-corp", "Acme Corporation"),
        ("city-university", "City University"),
        ("global-retail", "Global Retail"),
    ]
    assert sorted(Membership.objects.values_list("user__username", "organization__slug", "group__name")) == [
        ("admin", "acme-corp", "Administrators"),
        ("admin", "city-university", "Administrators"),
        ("admin", "global-retail", "Administrators"),
        ("bob_analyst", "city-university", "Analysts"),
        ("john_manager", "acme-corp", "Managers"),
        ("mary_sales", "global-retail", "Sales"),
        ("rita_readonly", "global-retail", "Read Only"),
        ("sue_support", "acme-corp", "Support"),
        ("tom_sales", "global-retail", "Sales"),
        ("una_user", "city-university", "Users"),
    ]
    assert Group.objects.count() == 7
    assert all(u.check_password("sbsync-demo") for u in User.objects.all())
    assert list(User.objects.filter(is_staff=True).values_list("username", "is_superuser")) == [
        ("admin", True)
    ]


def test_seed_demo_applies_the_seed_permission_table():
    run("seed_demo")

    everything = {"push", "pull", "create", "update", "delete", "read"}
    read_write = everything - {"delete"}
    read_only = {"pull", "read"}
    assert ModelPermission.objects.count() == 3 * 7 * 4
    assert flags("acme-corp", "Administrators", "shop.Order") == everything
    assert flags("acme-corp", "Managers", "shop.Customer") == read_write
    assert flags("city-university", "Users", "shop.Report") == read_write
    assert flags("city-university", "Analysts", "shop.Customer") == read_only
    assert flags("city-university", "Analysts", "shop.Report") == read_write
    assert flags("global-retail", "Sales", "shop.Order") == read_write
    assert flags("global-retail", "Sales", "shop.Report") == read_only
    assert flags("acme-corp", "Support", "shop.Customer") == read_write
    assert flags("global-retail", "Read Only", "shop.Customer") == read_only
    assert {
        frozenset(flags(slug, g, "shop.Product"))
        for slug in ("acme-corp",)
        for g in ("Administrators", "Managers", "Read Only")
    } == {frozenset(read_only)}


def test_seed_demo_gives_each_organization_the_sales_filter():
    run("seed_demo")

    assert sorted(
        DataFilter.objects.values_list(
            "organization__slug", "group__name", "model_label", "condition", "is_active"
        )
    ) == [
        (slug, "Sales", "shop.Customer", SALES_FILTER, True)
        for slug in ("acme-corp", "city-university", "global-retail")
    ]


def test_seed_demo_sales_users_see_only_their_assigned_customers():
    run("seed_demo")
    retail = Organization.objects.get(slug="global-retail")
    mary, tom, john = (User.objects.get(username=n) for n in ("mary_sales", "tom_sales", "john_manager"))

    seen_by_mary = set(
        access_for(mary, retail).rows(Customer).values_list("assigned_manager__username", flat=True)
    )
    mary_count = access_for(mary, retail).rows(Customer).count()
    tom_count = access_for(tom, retail).rows(Customer).count()

    assert seen_by_mary == {"mary_sales"}
    assert mary_count == Customer.objects.filter(organization=retail, assigned_manager=mary).count() == 40
    assert tom_count == 40
    assert access_for(john, retail) is None


def test_seed_demo_creates_a_few_hundred_records_per_organization():
    run("seed_demo")

    for organization in Organization.objects.all():
        counts = [m.objects.filter(organization=organization).count() for m in (Customer, Order, Report)]
        assert counts == [120, 240, 60]
        assert (
            not Order.objects.filter(organization=organization)
            .exclude(customer__organization=organization)
            .exists()
        )
    assert Product.objects.count() == 24
    assert Customer.objects.filter(
        pk=uuid.uuid5(ID_NAMESPACE, "acme-corp:customer:0"), organization__slug="acme-corp"
    ).exists()


def test_seed_demo_records_history_and_change_index_entries():
    run("seed_demo")

    assert Customer.history.filter(history_type="+", history_change_reason="seed_demo").count() == 360
    assert Order.history.count() == 720
    assert SyncRecord.objects.filter(model_label="shop.Customer", deleted=False).count() == 360
    assert SyncRecord.objects.filter(model_label="shop.Product", scope=0).count() == 24


def test_seed_demo_twice_gives_the_same_state():
    run("seed_demo")
    before = (
        snapshot(),
        [m.objects.count() for m in (Customer, Order, Report, Product, Customer.history.model)],
    )

    out, _ = run("seed_demo")

    assert (
        snapshot(),
        [m.objects.count() for m in (Customer, Order, Report, Product, Customer.history.model)],
    ) == before
    assert "The demo was already seeded; nothing changed." in out


def test_seed_demo_again_restores_the_demo_configuration_but_keeps_passwords():
    run("seed_demo")
    ModelPermission.objects.filter(group__name="Analysts", model_label="shop.Report").update(can_push=False)
    DataFilter.objects.filter(organization__slug="acme-corp").delete()
    Membership.objects.filter(user__username="john_manager").update(group=Group.objects.get(name="Read Only"))
    john = User.objects.get(username="john_manager")
    john.set_password("changed-pass-1")
    john.save()

    out, _ = run("seed_demo")

    assert flags("city-university", "Analysts", "shop.Report") == {"push", "pull", "create", "update", "read"}
    assert DataFilter.objects.filter(organization__slug="acme-corp").count() == 1
    assert Membership.objects.get(user__username="john_manager").group.name == "Managers"
    assert User.objects.get(username="john_manager").check_password("changed-pass-1")
    assert out.splitlines()[0] == "Created or restored: 1 memberships set back to their demo group."
