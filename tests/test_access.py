from __future__ import annotations

from sbsync.access import access_for
from sbsync.demo.shop.models import Customer, Product
from sbsync.enums import Action
from sbsync.models import Membership, ModelPermission
from tests.factories import make_customer, make_filter, make_permission, make_product


def can(user, organization, label, action):
    access = access_for(user, organization)
    return access is not None and access.can(label, action)


def rows(user, organization, model):
    return access_for(user, organization).rows(model)


def test_owner_may_do_everything_it_was_granted(trio):
    assert all(can(trio.alice, trio.acme, "shop.Customer", action) for action in Action.values)


def test_member_without_permission_rows_may_do_nothing(trio):
    access = access_for(trio.bob, trio.acme)

    assert access is not None
    assert access.flags(Customer) == dict.fromkeys(Action.values, False)


def test_member_gets_exactly_its_groups_flags(trio):
    make_permission(
        organization=trio.acme, group=trio.members, model_label="shop.Customer", actions=["pull", "read"]
    )

    access = access_for(trio.bob, trio.acme)

    assert [a for a in Action.values if access.can(Customer, a)] == ["pull", "read"]


def test_user_of_another_organization_has_no_access(trio):
    assert access_for(trio.charlie, trio.acme) is None
    assert not can(trio.charlie, trio.acme, "shop.Customer", "pull")


def test_inactive_membership_or_organization_gives_no_access(trio):
    Membership.objects.filter(user=trio.alice).update(is_active=False)
    assert access_for(trio.alice, trio.acme) is None

    Membership.objects.filter(user=trio.alice).update(is_active=True)
    trio.acme.is_active = False
    trio.acme.save()
    assert access_for(trio.alice, trio.acme) is None


def test_visible_rows_are_the_organizations_only(trio):
    mine = make_customer(organization=trio.acme)
    make_customer(organization=trio.globex)

    assert list(rows(trio.alice, trio.acme, Customer)) == [mine]
    assert access_for(trio.charlie, trio.acme) is None


def test_data_filter_narrows_rows_for_its_group_only(trio):
    bobs = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    alices = make_customer(organization=trio.acme, assigned_manager=trio.alice)
    make_filter(organization=trio.acme, group=trio.members, model_label="shop.Customer")

    assert list(rows(trio.bob, trio.acme, Customer)) == [bobs]
    assert set(rows(trio.alice, trio.acme, Customer)) == {bobs, alices}


def test_several_filters_must_all_match(trio):
    match = make_customer(organization=trio.acme, assigned_manager=trio.bob, department="SALES")
    make_customer(organization=trio.acme, assigned_manager=trio.bob, department="SUPPORT")
    make_filter(organization=trio.acme, group=trio.members)
    make_filter(
        organization=trio.acme,
        group=trio.members,
        condition={"field": "department", "operator": "exact", "value": "SALES"},
    )

    assert list(rows(trio.bob, trio.acme, Customer)) == [match]


def test_inactive_filter_is_ignored(trio):
    make_customer(organization=trio.acme, assigned_manager=trio.alice)
    make_filter(organization=trio.acme, group=trio.members, is_active=False)

    assert rows(trio.bob, trio.acme, Customer).count() == 1


def test_shared_model_is_pull_only_whatever_the_flags(trio):
    product = make_product()
    access = access_for(trio.alice, trio.acme)

    assert access.can(Product, "pull") and access.can(Product, "read")
    assert not any(access.can(Product, a) for a in ("push", "create", "update", "delete"))
    assert list(access.rows(Product)) == [product]
    assert access.scope(Product) == 0


def test_permission_change_applies_to_the_next_access_despite_the_cache(trio):
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Customer", actions=["pull"])
    assert access_for(trio.bob, trio.acme).can(Customer, "pull")

    ModelPermission.objects.filter(group=trio.members).update(can_pull=False)

    assert not access_for(trio.bob, trio.acme).can(Customer, "pull")


def test_config_generation_changes_with_every_permission_write(trio):
    before = access_for(trio.bob, trio.acme).generation
    permission = make_permission(organization=trio.acme, group=trio.members)
    after_create = access_for(trio.bob, trio.acme).generation
    permission.delete()

    assert len({before, after_create, access_for(trio.bob, trio.acme).generation}) == 3


def test_fingerprint_changes_when_the_view_changes(trio):
    before = access_for(trio.bob, trio.acme).fingerprint(Customer)
    make_filter(organization=trio.acme, group=trio.members)

    after = access_for(trio.bob, trio.acme).fingerprint(Customer)

    assert before != after
    assert access_for(trio.alice, trio.acme).fingerprint(Customer) != after


def test_disabled_model_has_no_flags_even_with_a_permission_row(trio, settings):
    assert can(trio.alice, trio.acme, "shop.Customer", "pull")

    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Customer"]}

    assert not can(trio.alice, trio.acme, "shop.Customer", "pull")
    assert access_for(trio.alice, trio.acme).model("shop.Customer") is None
