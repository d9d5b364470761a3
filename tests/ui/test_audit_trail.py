from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sbsync.models import DataFilter, Membership, ModelPermission, Organization
from sbsync.ui.matrix import Cell
from tests.factories import make_filter, make_organization, make_user
from tests.ui.conftest import HTMX, csv_rows

PAGE = reverse("sbsync:audit-trails")


def table_rows(page: str) -> list[str]:
    body = re.split(r"<tbody[^>]*>", page, maxsplit=1)[1].split("</tbody>", 1)[0]
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip()
        for row in body.split("</tr>")[:-1]
    ]


def test_permission_change_in_the_ui_shows_who_and_what_changed(staff_client, trio):
    cell = Cell(trio.owners.pk, "shop.Order", "delete")
    staff_client.post(
        reverse("sbsync:permission-cell"), {"organization": "acme", "cell": cell.key}, headers=HTMX
    )

    response = staff_client.get(PAGE, {"model": "modelpermission", "user": "staff"})

    rows = table_rows(response.content.decode())
    assert len(rows) == 1
    assert re.search(
        r"staff Model permission Owners: shop.Order in Acme history changed can delete : yes → no$", rows[0]
    )


def test_created_record_lists_its_values(staff_client, staff_user, db):
    organization = Organization(name="Initech", slug="initech")
    organization._history_user = staff_user
    organization.save()

    response = staff_client.get(PAGE, {"model": "organization"})

    assert table_rows(response.content.decode())[0].endswith(
        "staff Organization Initech history created name : Initech slug : initech is active : yes"
    )


def test_membership_group_change_shows_group_names(staff_client, trio):
    membership = Membership.objects.get(user=trio.bob)
    membership.group = trio.owners
    membership.save()

    response = staff_client.get(PAGE, {"model": "membership", "action": "~"})

    assert table_rows(response.content.decode())[0].endswith(
        "bob in Acme history changed group : Members → Owners"
    )


def test_deleted_record_is_listed_with_its_last_state(staff_client, trio):
    data_filter = make_filter(organization=trio.acme, group=trio.members, name="sales only")
    data_filter.delete()

    response = staff_client.get(PAGE, {"model": "datafilter", "action": "-"})

    row = table_rows(response.content.decode())[0]
    assert re.search(r"sales only \(shop.Customer, Members, Acme\) history deleted 6 last values ", row)
    assert "name : sales only" in row and "group : Members" in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"model": "organization"}, ["Organization Zeta", "Organization Alpha"]),
        ({"user": "editor"}, ["Organization Alpha"]),
        ({"model": "datafilter"}, []),
        ({"model": "bogus"}, []),
    ],
)
def test_filters_by_model_and_user(staff_client, db, query, expected):
    editor = make_user(username="editor")
    alpha = Organization(name="Organization Alpha", slug="alpha")
    alpha._history_user = editor
    alpha.save()
    make_organization(name="Organization Zeta", slug="zeta")

    response = staff_client.get(PAGE, query)

    html = response.content.decode()
    if not expected:
        assert "No changes match." in html
    else:
        rows = table_rows(html)
        assert [
            re.search(r"Organization (Organization \w+) history created", row).group(1) for row in rows
        ] == expected


@override_settings(TIME_ZONE="America/New_York")
def test_date_range_is_in_the_current_time_zone(staff_client, db):
    make_organization(name="Late Evening", slug="late")
    make_organization(name="Next Morning", slug="next")
    Organization.history.filter(slug="late").update(
        history_date=datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    )  # Mar 2, NY
    Organization.history.filter(slug="next").update(
        history_date=datetime(2026, 3, 3, 5, 30, tzinfo=UTC)
    )  # Mar 3, NY

    response = staff_client.get(
        PAGE, {"history_date_after": "2026-03-02", "history_date_before": "2026-03-02"}
    )

    rows = table_rows(response.content.decode())
    assert len(rows) == 1
    assert rows[0].startswith("2026-03-02 21:30:00") and "Late Evening" in rows[0]


def test_csv_equals_the_filtered_rows(staff_client, staff_user, trio):
    cell = Cell(trio.members.pk, "shop.Customer", "pull")
    staff_client.post(
        reverse("sbsync:permission-cell"),
        {"organization": "globex", "cell": cell.key, cell.key: "on"},
        headers=HTMX,
    )

    response = staff_client.get(PAGE, {"user": "staff", "_export": "csv"})

    record = ModelPermission.history.get(history_user=staff_user)
    assert csv_rows(response) == [
        ["When", "Who", "Model", "Object", "Action", "Changes (before → after)"],
        [
            timezone.localtime(record.history_date).isoformat(),
            "staff",
            "sbsync.ModelPermission",
            "Members: shop.Customer in Globex",
            "created",
            "organization: ∅ → Globex; group: ∅ → Members; model label: ∅ → shop.Customer; can push: ∅ → no; "
            "can pull: ∅ → yes; can create: ∅ → no; can update: ∅ → no; can delete: ∅ → no; can read: ∅ → no",
        ],
    ]


def test_csv_has_every_row_not_one_page(staff_client, db):
    for n in range(55):
        make_organization(name=f"Org {n}", slug=f"org-x{n}")

    response = staff_client.get(PAGE, {"_export": "csv"})

    assert len(csv_rows(response)) == 56


def test_htmx_gets_the_table_partial(staff_client, trio):
    response = staff_client.get(PAGE, {"model": "organization"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="audit-table"')
    assert "<html" not in html


@pytest.mark.parametrize("item_count", [1, 3])
def test_query_count_does_not_grow_with_rows(staff_client, trio, django_assert_num_queries, item_count):
    for n in range(item_count):
        data_filter = make_filter(organization=trio.acme, group=trio.members, name=f"f{n}")
        data_filter.name = f"renamed {n}"
        data_filter.save()
        Membership.objects.create(user=make_user(), organization=trio.globex, group=trio.members)

    with django_assert_num_queries(18):
        staff_client.get(PAGE)

    assert DataFilter.history.count() == 2 * item_count


def test_changed_condition_is_shown_as_json(staff_client, trio):
    data_filter = make_filter(organization=trio.acme, group=trio.members, name="own")
    data_filter.condition = {"field": "age", "operator": "gte", "value": 18}
    data_filter.save()

    response = staff_client.get(PAGE, {"model": "datafilter", "action": "~"})

    assert table_rows(response.content.decode())[0].endswith(
        'condition : {"field": "assigned_manager", "operator": "exact", "value": "$user"} → '
        '{"field": "age", "operator": "gte", "value": 18}'
    )


def test_object_history_lists_only_that_object_and_each_row_links_to_it(staff_client, trio):
    membership = Membership.objects.get(user=trio.bob)
    membership.group = trio.owners
    membership.save()
    other = Membership.objects.get(user=trio.alice)

    response = staff_client.get(PAGE, {"model": "membership", "object": membership.pk})

    rows = table_rows(response.content.decode())
    assert [row.split(" history ")[1].split(" ")[0] for row in rows] == ["changed", "created"]
    assert all("bob in Acme" in row for row in rows)
    assert f"?model=membership&amp;object={other.pk}" not in response.content.decode()
    assert f"?model=membership&amp;object={membership.pk}" in response.content.decode()
