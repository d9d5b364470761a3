from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from sbsync.access import access_for
from sbsync.models import DataFilter
from tests.factories import make_customer, make_filter
from tests.ui.conftest import HTMX, csv_rows

LIST = reverse("sbsync:data-filters")
ADD = reverse("sbsync:data-filter-add")


def form_data(trio, **overrides):
    data = {
        "organization": "acme",
        "group": trio.members.pk,
        "model_label": "shop.Customer",
        "name": "Own customers",
        "field": "assigned_manager",
        "operator": "exact",
        "value": "$user",
        "is_active": "on",
    }
    return {**data, **overrides}


def test_list_filters_by_organization_group_and_model(staff_client, trio):
    make_filter(
        organization=trio.acme, group=trio.members, model_label="shop.Customer", name="acme members customers"
    )
    make_filter(
        organization=trio.acme, group=trio.owners, model_label="shop.Customer", name="acme owners customers"
    )
    make_filter(
        organization=trio.globex,
        group=trio.members,
        model_label="shop.Customer",
        name="globex members customers",
    )
    make_filter(
        organization=trio.acme,
        group=trio.members,
        model_label="shop.Order",
        name="acme members orders",
        condition={"field": "status", "operator": "exact", "value": "PAID"},
    )

    response = staff_client.get(
        LIST, {"organization": "acme", "group": trio.members.pk, "model_label": "shop.Customer"}
    )

    assert re.findall(r'<a href="/api/sync/config/filters/\d+/">([^<]+)</a>', response.content.decode()) == [
        "acme members customers"
    ]


def test_list_invalid_filter_input_shows_nothing(staff_client, trio):
    make_filter(organization=trio.acme, group=trio.members)

    response = staff_client.get(LIST, {"organization": "no-such-org"})

    assert "No data filters match." in response.content.decode()


def test_list_htmx_gets_the_table_partial(staff_client, trio):
    make_filter(organization=trio.acme, group=trio.members, name="only one")

    response = staff_client.get(LIST, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="data-filters-table"')
    assert "<html" not in html and "only one" in html


def test_list_csv_equals_the_filtered_table(staff_client, trio):
    kept = make_filter(organization=trio.acme, group=trio.members, name="kept")
    make_filter(organization=trio.globex, group=trio.members, name="other org")

    response = staff_client.get(LIST, {"organization": "acme", "_export": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_rows(response) == [
        ["Name", "Organization", "Group", "Model", "Condition", "Active", "Changed"],
        [
            "kept",
            "Acme",
            "Members",
            "shop.Customer",
            "assigned_manager equals $user",
            "True",
            timezone.localtime(kept.updated_at).isoformat(),
        ],
    ]


def test_list_unsupported_export_format_gives_the_page(staff_client, trio):
    response = staff_client.get(LIST, {"_export": "xlsx"})

    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("item_count", [1, 3])
def test_list_query_count_does_not_grow_with_rows(staff_client, trio, django_assert_num_queries, item_count):
    for n in range(item_count):
        make_filter(organization=trio.acme, group=trio.members, name=f"filter {n}")

    with django_assert_num_queries(9):
        staff_client.get(LIST)


def test_add_saves_the_filter_with_history_and_it_applies_at_once(staff_client, staff_user, trio):
    mine = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    make_customer(organization=trio.acme)

    response = staff_client.post(ADD, form_data(trio))

    saved = DataFilter.objects.get()
    assert response.status_code == 302
    assert (saved.organization, saved.group, saved.model_label, saved.condition) == (
        trio.acme,
        trio.members,
        "shop.Customer",
        {"field": "assigned_manager", "operator": "exact", "value": "$user"},
    )
    assert saved.history.get().history_user == staff_user
    assert list(access_for(trio.bob, trio.acme).rows(type(mine))) == [mine]


def test_add_types_numbers_lists_and_booleans(staff_client, trio):
    staff_client.post(ADD, form_data(trio, name="adults", field="age", operator="gte", value="18"))
    staff_client.post(
        ADD, form_data(trio, name="teams", field="department", operator="in", value="SALES, SUPPORT")
    )
    staff_client.post(ADD, form_data(trio, name="no age", field="age", operator="isnull", value="true"))

    conditions = {f.name: f.condition["value"] for f in DataFilter.objects.all()}
    assert conditions == {"adults": 18, "teams": ["SALES", "SUPPORT"], "no age": True}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"field": "age", "operator": "exact", "value": "old"},
            "value",
            "&#x27;old&#x27; is not valid for age",
        ),
        ({"field": "age", "operator": "icontains", "value": "1"}, "operator", "applies to text fields only"),
        ({"field": "name", "operator": "exact", "value": "$boss"}, "value", "Unknown placeholder"),
        ({"field": "age", "operator": "isnull", "value": "maybe"}, "value", "takes true or false"),
        ({"field": "nope"}, "field", "Select a valid choice"),
        ({"name": ""}, "name", "This field is required"),
    ],
)
def test_add_invalid_condition_shows_the_error_inline_and_saves_nothing(
    staff_client, trio, overrides, field, message
):
    response = staff_client.post(ADD, form_data(trio, **overrides), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="filter-form"')
    assert re.search(rf'<label for="id_{field}">.*?{re.escape(message)}', html, re.S)
    assert DataFilter.objects.count() == 0


def test_add_valid_over_htmx_redirects_the_page_to_the_list(staff_client, trio):
    response = staff_client.post(ADD, form_data(trio), headers=HTMX)

    assert response["HX-Redirect"] == f"{LIST}?organization=acme"
    assert DataFilter.objects.count() == 1


def test_add_redrawn_for_another_model_lists_its_fields(staff_client, trio):
    response = staff_client.get(
        ADD, {"model_label": "shop.Order", "name": "typed", "organization": "globex"}, headers=HTMX
    )

    html = response.content.decode()
    fields = re.findall(r'<option value="(\w+)"', html.split('id="id_field"')[1].split("</select>")[0])
    assert fields == ["id", "customer", "amount", "status", "organization", "created_at"]
    assert 'value="typed"' in html and "This field is required" not in html
    assert DataFilter.objects.count() == 0


def test_edit_changes_the_filter_and_keeps_history(staff_client, staff_user, trio):
    data_filter = make_filter(organization=trio.acme, group=trio.members, name="before")

    staff_client.post(
        reverse("sbsync:data-filter-edit", args=[data_filter.pk]),
        form_data(trio, name="after", field="name", operator="startswith", value="A"),
    )

    data_filter.refresh_from_db()
    assert (data_filter.name, data_filter.condition) == (
        "after",
        {"field": "name", "operator": "startswith", "value": "A"},
    )
    assert [h.history_type for h in data_filter.history.order_by("history_date")] == ["+", "~"]
    assert data_filter.history.latest("history_date").history_user == staff_user


def test_edit_form_shows_the_stored_condition(staff_client, trio):
    data_filter = make_filter(
        organization=trio.acme,
        group=trio.members,
        condition={"field": "department", "operator": "in", "value": ["SALES", "SUPPORT"]},
    )

    response = staff_client.get(reverse("sbsync:data-filter-edit", args=[data_filter.pk]))

    html = response.content.decode()
    assert '<option value="department" selected>' in html
    assert 'value="SALES, SUPPORT"' in html


def test_delete_over_htmx_removes_the_row_and_records_who(staff_client, staff_user, trio):
    data_filter = make_filter(organization=trio.acme, group=trio.members)

    response = staff_client.post(reverse("sbsync:data-filter-delete", args=[data_filter.pk]), headers=HTMX)

    html = response.content.decode()
    assert html.strip().startswith('<div id="messages"') and 'hx-swap-oob="true"' in html
    assert f"Data filter “{data_filter.name}” deleted." in html
    assert "<tr" not in html
    assert not DataFilter.objects.exists()
    assert DataFilter.history.filter(history_type="-").get().history_user == staff_user


def test_delete_without_htmx_redirects_to_the_list(staff_client, trio):
    data_filter = make_filter(organization=trio.acme, group=trio.members)

    response = staff_client.post(reverse("sbsync:data-filter-delete", args=[data_filter.pk]))

    assert response["Location"] == LIST
    assert not DataFilter.objects.exists()


def test_delete_unknown_filter_is_404(staff_client, trio):
    response = staff_client.post(reverse("sbsync:data-filter-delete", args=[999]))

    assert response.status_code == 404


def test_add_with_an_empty_value_is_a_field_error_not_a_type_error(staff_client, trio):
    response = staff_client.post(
        reverse("sbsync:data-filter-add"),
        {
            "organization": "acme",
            "group": trio.members.pk,
            "model_label": "shop.Customer",
            "name": "",
            "field": "id",
            "operator": "exact",
            "value": "",
        },
    )

    html = response.content.decode()
    assert "Enter a value for the condition." in html
    assert "UUID" not in html
    assert not DataFilter.objects.exists()


def test_list_shows_operators_by_their_label(staff_client, trio):
    make_filter(
        organization=trio.acme,
        group=trio.members,
        model_label="shop.Order",
        condition={"field": "total", "operator": "gte", "value": 10},
    )

    response = staff_client.get(reverse("sbsync:data-filters"))

    assert "<code>total at least 10</code>" in response.content.decode()
