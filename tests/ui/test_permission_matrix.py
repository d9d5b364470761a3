from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from sbsync.access import access_for
from sbsync.models import ConfigGeneration, ModelPermission
from sbsync.ui.matrix import Cell
from tests.factories import make_group, make_permission
from tests.ui.conftest import HTMX

MATRIX = reverse("sbsync:permission-matrix")
CELL = reverse("sbsync:permission-cell")
BULK = reverse("sbsync:permission-bulk")


def cell_post(organization, group, label, action, *, granted, others=()):
    key = Cell(group.pk, label, action).key
    ticked = [key] if granted else []
    return {"organization": organization.slug, "cell": key, **dict.fromkeys([*ticked, *others], "on")}


def flags(organization, group, label):
    row = ModelPermission.objects.filter(
        organization=organization, group=group, model_label__iexact=label
    ).first()
    return row.flags() if row else None


def checked_keys(html: str) -> set[str]:
    return set(re.findall(r'name="([^"]+)" value="on" checked', html))


def test_matrix_shows_the_selected_organization_only(staff_client, trio):
    make_permission(organization=trio.globex, group=trio.members, model_label="shop.Order", actions=["pull"])

    response = staff_client.get(MATRIX, {"organization": "acme"})

    html = response.content.decode()
    owners_customer_push = Cell(trio.owners.pk, "shop.Customer", "push").key
    assert owners_customer_push in checked_keys(html)
    assert Cell(trio.members.pk, "shop.Order", "pull").key not in checked_keys(html)
    assert '<input type="hidden" name="organization" value="acme">' in html


def test_matrix_rows_are_enabled_models_and_columns_groups_by_action(staff_client, trio):
    response = staff_client.get(MATRIX, {"organization": "acme"})

    html = response.content.decode()
    assert [a + b for a, b in re.findall(r'class="model-name">(\w+\.)<wbr>(\w+)', html)] == [
        "shop.Customer",
        "shop.Order",
        "shop.Product",
        "shop.Report",
    ]
    assert re.findall(r'class="group-head"><span class="group-name">([^<]+)<', html) == ["Members", "Owners"]
    assert len(re.findall(r"data-matrix-cell", html)) == 2 * (3 * 6 + 2)


def test_matrix_shared_model_offers_only_pull_and_read(staff_client, trio):
    response = staff_client.get(MATRIX, {"organization": "acme"})

    html = response.content.decode()
    product_cells = set(re.findall(r'name="\d+:shop\.Product:(\w+)"', html))
    assert product_cells == {"pull", "read"}


def test_matrix_htmx_request_gets_the_matrix_partial(staff_client, trio):
    response = staff_client.get(MATRIX, {"organization": "globex"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="permission-matrix">')
    assert "<html" not in html
    assert "Globex" in html


def test_matrix_plain_request_gets_the_full_page(staff_client, trio):
    response = staff_client.get(MATRIX, {"organization": "globex"})

    assert response.content.decode().count('id="permission-matrix"') == 1
    assert b"<html" in response.content


def test_matrix_unknown_organization_falls_back_to_the_first(staff_client, trio):
    response = staff_client.get(MATRIX, {"organization": "nope"})

    assert '<input type="hidden" name="organization" value="acme">' in response.content.decode()


def test_cell_grant_saves_the_flag_with_history_and_applies_at_once(staff_client, staff_user, trio):
    assert access_for(trio.bob, trio.acme).can("shop.Customer", "push") is False
    generation = ConfigGeneration.current()

    response = staff_client.post(
        CELL, cell_post(trio.acme, trio.members, "shop.Customer", "push", granted=True), headers=HTMX
    )

    assert flags(trio.acme, trio.members, "shop.Customer") == {
        "push": True,
        "pull": False,
        "create": False,
        "update": False,
        "delete": False,
        "read": False,
    }
    assert ConfigGeneration.current() != generation
    assert access_for(trio.bob, trio.acme).can("shop.Customer", "push") is True
    record = ModelPermission.history.filter(group=trio.members).latest("history_date")
    assert (record.history_type, record.history_user) == ("+", staff_user)
    html = response.content.decode()
    assert 'id="cell-' in html and "checked" in html and "Saved" in html
    assert 'hx-swap-oob="true"' in html and "<html" not in html


def test_cell_revoke_clears_the_flag_and_applies_at_once(staff_client, staff_user, trio):
    assert access_for(trio.alice, trio.acme).can("shop.Order", "delete") is True

    response = staff_client.post(
        CELL, cell_post(trio.acme, trio.owners, "shop.Order", "delete", granted=False), headers=HTMX
    )

    assert flags(trio.acme, trio.owners, "shop.Order")["delete"] is False
    assert flags(trio.acme, trio.owners, "shop.Order")["push"] is True
    assert access_for(trio.alice, trio.acme).can("shop.Order", "delete") is False
    record = ModelPermission.history.filter(
        organization=trio.acme, group=trio.owners, model_label="shop.Order"
    ).latest("history_date")
    assert (record.history_type, record.history_user, record.can_delete) == ("~", staff_user, False)
    assert "checked" not in response.content.decode()


def test_cell_state_comes_from_the_cell_not_other_ticked_boxes(staff_client, trio):
    other = Cell(trio.members.pk, "shop.Order", "pull").key

    staff_client.post(
        CELL,
        cell_post(trio.acme, trio.members, "shop.Customer", "read", granted=False, others=[other]),
        headers=HTMX,
    )

    assert flags(trio.acme, trio.members, "shop.Order") is None
    assert flags(trio.acme, trio.members, "shop.Customer") is None


def test_cell_change_in_one_organization_leaves_the_other_alone(staff_client, trio):
    before = flags(trio.globex, trio.owners, "shop.Customer")

    staff_client.post(
        CELL, cell_post(trio.acme, trio.owners, "shop.Customer", "push", granted=False), headers=HTMX
    )

    assert flags(trio.globex, trio.owners, "shop.Customer") == before
    assert access_for(trio.charlie, trio.globex).can("shop.Customer", "push") is True


def test_cell_unchanged_value_writes_no_history(staff_client, trio):
    count = ModelPermission.history.count()

    staff_client.post(
        CELL, cell_post(trio.acme, trio.owners, "shop.Customer", "push", granted=True), headers=HTMX
    )

    assert ModelPermission.history.count() == count


def test_cell_shared_model_push_is_refused_in_place(staff_client, trio):
    response = staff_client.post(
        CELL, cell_post(trio.acme, trio.members, "shop.Product", "push", granted=True), headers=HTMX
    )

    assert response.status_code == 200
    assert flags(trio.acme, trio.members, "shop.Product") is None
    assert "Not saved: shop.Product is shared" in response.content.decode()


def test_cell_model_not_enabled_is_refused_in_place(staff_client, trio):
    response = staff_client.post(
        CELL, cell_post(trio.acme, trio.members, "auth.User", "pull", granted=True), headers=HTMX
    )

    assert response.status_code == 200
    assert not ModelPermission.objects.filter(model_label__iexact="auth.User").exists()
    assert "auth.User is not an enabled model" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"organization": "acme", "cell": "garbage"},
        {"organization": "acme", "cell": "1:shop.Customer:fly"},
        {"organization": "nope", "cell": "1:shop.Customer:push"},
        {"cell": "1:shop.Customer:push"},
    ],
)
def test_cell_malformed_input_is_a_400_and_writes_nothing(staff_client, trio, data):
    count = ModelPermission.objects.count()

    response = staff_client.post(CELL, data, headers=HTMX)

    assert response.status_code == 400
    assert ModelPermission.objects.count() == count


def test_cell_deleted_group_is_a_400(staff_client, trio):
    gone = make_group("Gone")
    data = cell_post(trio.acme, gone, "shop.Customer", "push", granted=True)
    gone.delete()

    response = staff_client.post(CELL, data, headers=HTMX)

    assert response.status_code == 400
    assert (
        not ModelPermission.objects.filter(organization=trio.acme, model_label="shop.Customer", can_push=True)
        .exclude(group=trio.owners)
        .exists()
    )


def test_cell_without_htmx_redirects_back_to_the_matrix(staff_client, trio):
    response = staff_client.post(CELL, cell_post(trio.acme, trio.members, "shop.Order", "pull", granted=True))

    assert response.status_code == 302
    assert response["Location"] == f"{MATRIX}?organization=acme"
    assert flags(trio.acme, trio.members, "shop.Order")["pull"] is True


def test_bulk_column_grants_one_action_to_one_group_on_every_model(staff_client, staff_user, trio):
    response = staff_client.post(
        BULK, {"organization": "acme", "confirmed": f"grant:column:{trio.members.pk}:pull"}, headers=HTMX
    )

    granted = {
        p.model_label: p.can_pull
        for p in ModelPermission.objects.filter(organization=trio.acme, group=trio.members)
    }
    assert granted == {"shop.Customer": True, "shop.Order": True, "shop.Product": True, "shop.Report": True}
    assert all(
        not p.can_push for p in ModelPermission.objects.filter(organization=trio.acme, group=trio.members)
    )
    assert set(ModelPermission.history.filter(group=trio.members).values_list("history_user", flat=True)) == {
        staff_user.pk
    }
    assert access_for(trio.bob, trio.acme).can("shop.Report", "pull") is True
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="permission-matrix">')
    assert "Granted 4 permissions in Acme (Members 4)." in html


def test_bulk_row_revokes_every_group_on_one_model(staff_client, trio):
    staff_client.post(BULK, {"organization": "acme", "confirmed": "revoke:row:shop.Customer"}, headers=HTMX)

    assert flags(trio.acme, trio.owners, "shop.Customer") == dict.fromkeys(
        ["push", "pull", "create", "update", "delete", "read"], False
    )
    assert flags(trio.acme, trio.owners, "shop.Order")["push"] is True
    assert flags(trio.globex, trio.owners, "shop.Customer")["push"] is True


def test_bulk_row_on_shared_model_grants_only_pull_and_read(staff_client, trio):
    staff_client.post(BULK, {"organization": "acme", "confirmed": "grant:row:shop.Product"}, headers=HTMX)

    assert flags(trio.acme, trio.members, "shop.Product") == {
        "push": False,
        "pull": True,
        "create": False,
        "update": False,
        "delete": False,
        "read": True,
    }


def test_bulk_everything_then_nothing(staff_client, trio):
    staff_client.post(BULK, {"organization": "globex", "confirmed": "grant:all"}, headers=HTMX)
    granted = ModelPermission.objects.filter(organization=trio.globex, group=trio.members).count()

    staff_client.post(BULK, {"organization": "globex", "confirmed": "revoke:all"}, headers=HTMX)

    assert granted == 4
    assert not any(
        any(access_for(trio.charlie, trio.globex).flags(label).values())
        for label in ("shop.Customer", "shop.Order", "shop.Product", "shop.Report")
    )
    assert access_for(trio.charlie, trio.globex).can("shop.Customer", "pull") is False
    assert access_for(trio.alice, trio.acme).can("shop.Customer", "pull") is True


def test_bulk_without_htmx_asks_on_the_full_page_then_applies(staff_client, trio):
    members_deleting = ModelPermission.objects.filter(group=trio.members, can_delete=True)
    asked = staff_client.post(BULK, {"organization": "acme", "bulk": "grant:all"})
    written_after_asking = members_deleting.count()

    applied = staff_client.post(BULK, {"organization": "acme", "confirmed": "grant:all"})

    assert written_after_asking == 0
    assert "<html" in asked.content.decode()
    assert 'name="confirmed" value="grant:all"' in asked.content.decode()
    assert "Granted " in applied.content.decode()
    assert members_deleting.count() == 3


def test_bulk_asks_first_with_the_count_per_group_and_writes_nothing(staff_client, trio):
    before = sorted(ModelPermission.objects.values_list("pk", "can_push", "can_pull"))

    response = staff_client.post(
        BULK, {"organization": "acme", "bulk": "revoke:row:shop.Customer"}, headers=HTMX
    )

    html = response.content.decode()
    assert sorted(ModelPermission.objects.values_list("pk", "can_push", "can_pull")) == before
    assert "Revoke 6 permissions in Acme?" in html
    assert re.findall(r"<li>([^<]+)</li>", html.split('class="per-group"')[1].split("</ul>")[0]) == [
        "Owners: 6"
    ]
    assert 'name="confirmed" value="revoke:row:shop.Customer"' in html


def test_bulk_undo_puts_the_previous_state_back(staff_client, staff_user, trio):
    before = {
        (p.group_id, p.model_label): p.flags() for p in ModelPermission.objects.filter(organization=trio.acme)
    }
    applied = staff_client.post(BULK, {"organization": "acme", "confirmed": "grant:all"}, headers=HTMX)
    undo = re.search(r'name="undo" value="([^"]+)"', applied.content.decode()).group(1)

    response = staff_client.post(
        reverse("sbsync:permission-undo"), {"organization": "acme", "undo": undo}, headers=HTMX
    )

    after = {
        (p.group_id, p.model_label): p.flags() for p in ModelPermission.objects.filter(organization=trio.acme)
    }
    assert {key: value for key, value in after.items() if any(value.values())} == before
    assert "Undone: " in response.content.decode()


def test_bulk_row_changes_only_the_groups_shown(staff_client, trio):
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Order", actions=["pull"])

    response = staff_client.post(
        BULK,
        {"organization": "acme", "confirmed": "revoke:row:shop.Order", "groups": [trio.members.pk]},
        headers=HTMX,
    )

    assert flags(trio.acme, trio.members, "shop.Order")["pull"] is False
    assert flags(trio.acme, trio.owners, "shop.Order")["push"] is True
    assert f'<input type="hidden" name="groups" value="{trio.members.pk}">' in response.content.decode()


def test_matrix_shows_only_the_chosen_groups(staff_client, trio):
    response = staff_client.get(MATRIX, {"organization": "acme", "groups": [trio.owners.pk]})

    assert re.findall(r'class="group-head"><span class="group-name">([^<]+)<', response.content.decode()) == [
        "Owners"
    ]


@pytest.mark.parametrize(
    "bulk",
    ["grant", "grant:everything", "allow:all", "grant:column:x:push", "grant:column:1:fly", "revoke:row:"],
)
def test_bulk_malformed_is_a_400_and_writes_nothing(staff_client, trio, bulk):
    count = ModelPermission.history.count()

    response = staff_client.post(BULK, {"organization": "acme", "bulk": bulk}, headers=HTMX)

    assert response.status_code == 400
    assert ModelPermission.history.count() == count


def test_save_without_javascript_applies_only_the_boxes_the_user_changed(staff_client, trio):
    shown = [
        Cell(trio.owners.pk, "shop.Customer", a).key
        for a in ("push", "pull", "create", "update", "delete", "read")
    ]
    # Meanwhile someone else revoked owners' delete on shop.Customer; this page still shows it ticked.
    row = ModelPermission.objects.get(organization=trio.acme, group=trio.owners, model_label="shop.Customer")
    row.can_delete = False
    row.save()
    ticked = [k for k in shown if not k.endswith(":push")] + [Cell(trio.members.pk, "shop.Order", "pull").key]

    response = staff_client.post(
        MATRIX, {"organization": "acme", "shown": ",".join(shown), **dict.fromkeys(ticked, "on")}
    )

    assert response.status_code == 302
    assert flags(trio.acme, trio.owners, "shop.Customer") == {
        "push": False,
        "pull": True,
        "create": True,
        "update": True,
        "delete": False,
        "read": True,
    }
    assert flags(trio.acme, trio.members, "shop.Order")["pull"] is True


def test_group_created_later_appears_as_a_column(staff_client, trio):
    Group.objects.create(name="Auditors")

    response = staff_client.get(MATRIX, {"organization": "acme"})

    assert re.findall(r'class="group-head"><span class="group-name">([^<]+)<', response.content.decode()) == [
        "Auditors",
        "Members",
        "Owners",
    ]


@pytest.mark.parametrize("item_count", [1, 3])
def test_matrix_query_count_does_not_grow_with_groups(
    staff_client, trio, django_assert_num_queries, item_count
):
    for n in range(item_count):
        group = make_group(f"Extra {n}")
        make_permission(organization=trio.acme, group=group, model_label="shop.Order")

    with django_assert_num_queries(8):
        staff_client.get(MATRIX, {"organization": "acme"})


def test_matrix_box_posts_only_its_own_fields_and_the_form_remembers_the_ticked_boxes(staff_client, trio):
    key = Cell(trio.owners.pk, "shop.Customer", "push").key

    response = staff_client.get(MATRIX, {"organization": "acme"})

    html = response.content.decode()
    assert f'hx-params="organization,cell,{key}"' in html
    shown = re.search(r'name="shown" value="([^"]*)"', html).group(1).split(",")
    assert sorted(shown) == sorted(checked_keys(html))
    assert len(shown) == 3 * 6 + 2


def test_matrix_offers_the_push_flags_of_a_shared_model_to_its_named_writers_only(
    staff_client, trio, settings
):
    settings.SBSYNC = {
        **settings.SBSYNC,
        "SHARED_MODEL_WRITERS": {"shop.Product": {"organization": "acme", "groups": ["Members"]}},
    }

    acme = staff_client.get(MATRIX, {"organization": "acme"}).content.decode()
    globex = staff_client.get(MATRIX, {"organization": "globex"}).content.decode()
    granted = staff_client.post(
        CELL, cell_post(trio.acme, trio.members, "shop.Product", "push", granted=True), headers=HTMX
    )
    refused = staff_client.post(
        CELL, cell_post(trio.acme, trio.owners, "shop.Product", "push", granted=True), headers=HTMX
    )

    def product_actions(html, group):
        return set(re.findall(rf'name="{group.pk}:shop\.Product:(\w+)"', html))

    assert product_actions(acme, trio.members) == {"push", "pull", "create", "update", "delete", "read"}
    assert product_actions(acme, trio.owners) == {"pull", "read"}
    assert product_actions(globex, trio.members) == {"pull", "read"}
    assert granted.status_code == 200 and flags(trio.acme, trio.members, "shop.Product")["push"] is True
    assert "Not saved: shop.Product is shared" in refused.content.decode()
