from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from sbsync.models import Membership, Organization
from sbsync.tenancy import organizations_for_user
from tests.factories import make_membership, make_organization, make_user
from tests.ui.conftest import HTMX, csv_rows

LIST = reverse("sbsync:organizations")


def detail(slug: str) -> str:
    return reverse("sbsync:organization-detail", args=[slug])


def test_list_shows_active_member_counts(staff_client, trio):
    Membership.objects.filter(user=trio.bob).update(is_active=False)

    response = staff_client.get(LIST)

    html = response.content.decode()
    counts = re.findall(
        r'/organizations/(\w+)/">[^<]+</a></td>\s*<td >\w+</td>\s*<td class="numeric">(\d+)</td>', html
    )
    assert counts == [("acme", "1"), ("globex", "1")]


def test_list_filters_by_name_and_state(staff_client, trio):
    make_organization(name="Acme Labs", slug="acme-labs", is_active=False)

    response = staff_client.get(LIST, {"name": "acme", "is_active": "true"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="organizations-table"')
    assert re.findall(r'/organizations/([\w-]+)/">', html) == ["acme"]


def test_list_csv_equals_the_filtered_table(staff_client, trio):
    response = staff_client.get(LIST, {"name": "glob", "_export": "csv"})

    rows = csv_rows(response)
    assert [row[:4] for row in rows] == [
        ["Name", "Slug", "Active members", "Active"],
        ["Globex", "globex", "1", "True"],
    ]


@pytest.mark.parametrize("item_count", [1, 3])
def test_list_query_count_does_not_grow_with_rows(staff_client, db, django_assert_num_queries, item_count):
    for _ in range(item_count):
        make_membership(organization=make_organization())

    with django_assert_num_queries(6):
        staff_client.get(LIST)


def test_create_organization_records_history_and_opens_it(staff_client, staff_user, db):
    response = staff_client.post(LIST, {"new-name": "Initech", "new-slug": "initech", "new-description": ""})

    organization = Organization.objects.get(slug="initech")
    assert response["Location"] == detail("initech")
    assert organization.history.get().history_user == staff_user


def test_create_over_htmx_with_a_taken_slug_shows_the_error_in_the_form(staff_client, trio):
    response = staff_client.post(LIST, {"new-name": "Acme Two", "new-slug": "acme"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<form id="organization-create"')
    assert "Organization with this Slug already exists." in html
    assert Organization.objects.count() == 2


def test_create_over_htmx_redirects_the_page(staff_client, db):
    response = staff_client.post(LIST, {"new-name": "Initech", "new-slug": "initech"}, headers=HTMX)

    assert response["HX-Redirect"] == detail("initech")


def test_deactivate_organization_stops_its_members(staff_client, staff_user, trio):
    response = staff_client.post(detail("acme"), {"name": "Acme", "description": "gone"})

    trio.acme.refresh_from_db()
    assert response["Location"] == detail("acme")
    assert trio.acme.is_active is False
    assert organizations_for_user(trio.bob) == []
    assert trio.acme.history.latest("history_date").history_user == staff_user


def test_add_existing_user_with_a_group(staff_client, staff_user, trio):
    dave = make_user(username="dave")

    response = staff_client.post(
        reverse("sbsync:membership-add", args=["acme"]), {"username": "dave", "group": trio.members.pk}
    )

    assert response["Location"] == detail("acme")
    assert organizations_for_user(dave) == [(trio.acme, trio.members)]
    assert Membership.history.get(user=dave).history_user == staff_user


def test_add_unknown_user_asks_to_create_it(staff_client, trio):
    response = staff_client.post(
        reverse("sbsync:membership-add", args=["acme"]), {"username": "scanner", "group": trio.members.pk}
    )

    assert response.status_code == 200
    assert "There is no user named “scanner”. Tick the box below to create it." in response.content.decode()
    assert not User.objects.filter(username="scanner").exists()


def test_add_creates_a_service_user_without_password(staff_client, trio):
    staff_client.post(
        reverse("sbsync:membership-add", args=["acme"]),
        {"username": "scanner", "group": trio.members.pk, "create_user": "on"},
    )

    scanner = User.objects.get(username="scanner")
    assert scanner.has_usable_password() is False
    assert organizations_for_user(scanner) == [(trio.acme, trio.members)]


def test_add_existing_member_again_is_refused(staff_client, trio):
    response = staff_client.post(
        reverse("sbsync:membership-add", args=["acme"]), {"username": "bob", "group": trio.owners.pk}
    )

    assert "“bob” already belongs to Acme; change its group below." in response.content.decode()
    assert Membership.objects.get(user=trio.bob).group == trio.members


def test_change_group_over_htmx_returns_the_saved_row(staff_client, staff_user, trio):
    membership = Membership.objects.get(user=trio.bob)
    url = reverse("sbsync:membership-edit", args=["acme", membership.pk])

    response = staff_client.post(
        url, {f"m{membership.pk}-group": trio.owners.pk, f"m{membership.pk}-is_active": "on"}, headers=HTMX
    )

    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="member-{membership.pk}">')
    assert "Saved" in html
    assert organizations_for_user(trio.bob) == [(trio.acme, trio.owners)]
    assert Membership.history.filter(user=trio.bob).latest("history_date").history_user == staff_user


def test_deactivate_membership(staff_client, trio):
    membership = Membership.objects.get(user=trio.bob)

    response = staff_client.post(
        reverse("sbsync:membership-edit", args=["acme", membership.pk]),
        {f"m{membership.pk}-group": trio.members.pk},
    )

    assert response["Location"] == detail("acme")
    assert organizations_for_user(trio.bob) == []


def test_membership_of_another_organization_is_404(staff_client, trio):
    charlie = Membership.objects.get(user=trio.charlie)

    response = staff_client.post(
        reverse("sbsync:membership-edit", args=["acme", charlie.pk]),
        {f"m{charlie.pk}-group": trio.members.pk},
    )

    assert response.status_code == 404
    assert Membership.objects.get(pk=charlie.pk).is_active is True


def test_detail_lists_members_with_their_groups(staff_client, trio):
    response = staff_client.get(detail("acme"))

    html = response.content.decode()
    assert re.findall(r"<strong>(\w+)</strong>", html) == ["alice", "bob"]
    assert "charlie" not in html


def test_change_to_a_missing_group_keeps_the_membership(staff_client, trio):
    membership = Membership.objects.get(user=trio.bob)
    url = reverse("sbsync:membership-edit", args=["acme", membership.pk])

    partial = staff_client.post(url, {f"m{membership.pk}-group": 9999}, headers=HTMX)
    plain = staff_client.post(url, {f"m{membership.pk}-group": 9999}, follow=True)

    assert "Select a valid choice" in partial.content.decode()
    assert "bob was not changed: choose an existing group." in plain.content.decode()
    membership.refresh_from_db()
    assert (membership.group, membership.is_active) == (trio.members, True)


def test_add_with_an_invalid_new_username_creates_nothing(staff_client, trio):
    response = staff_client.post(
        reverse("sbsync:membership-add", args=["acme"]),
        {"username": "no spaces allowed", "group": trio.members.pk, "create_user": "on"},
    )

    assert "Enter a valid username." in response.content.decode()
    assert not User.objects.filter(username="no spaces allowed").exists()


@pytest.mark.parametrize("item_count", [1, 3])
def test_detail_query_count_does_not_grow_with_members(
    staff_client, db, django_assert_num_queries, item_count
):
    organization = make_organization(slug="crowded")
    for _ in range(item_count):
        make_membership(organization=organization)

    with django_assert_num_queries(8):
        staff_client.get(detail("crowded"))


def test_add_over_htmx_redirects_the_page_so_a_reload_adds_nothing(staff_client, trio):
    make_user(username="dave")

    response = staff_client.post(
        reverse("sbsync:membership-add", args=["acme"]),
        {"username": "dave", "group": trio.members.pk},
        headers=HTMX,
    )

    assert response["HX-Redirect"] == detail("acme")
    assert Membership.objects.filter(user__username="dave").count() == 1


def test_add_over_htmx_with_errors_answers_the_form_only(staff_client, trio):
    response = staff_client.post(
        reverse("sbsync:membership-add", args=["acme"]), {"username": "", "group": ""}, headers=HTMX
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<form id="member-add"')
    assert "This field is required." in html
    assert "<html" not in html


def test_remove_member_deletes_the_membership_with_history(staff_client, staff_user, trio):
    membership = Membership.objects.get(user=trio.bob)

    response = staff_client.post(
        reverse("sbsync:membership-delete", args=["acme", membership.pk]), headers=HTMX
    )

    assert organizations_for_user(trio.bob) == []
    assert not Membership.objects.filter(pk=membership.pk).exists()
    removed = Membership.history.filter(id=membership.pk).latest("history_date")
    assert (removed.history_type, removed.history_user, removed.group_id) == (
        "-",
        staff_user,
        trio.members.pk,
    )
    assert "bob removed from Acme." in response.content.decode()
    assert 'hx-swap-oob="true"' in response.content.decode()


def test_remove_member_of_another_organization_is_404(staff_client, trio):
    charlie = Membership.objects.get(user=trio.charlie)

    response = staff_client.post(reverse("sbsync:membership-delete", args=["acme", charlie.pk]))

    assert response.status_code == 404
    assert Membership.objects.filter(pk=charlie.pk).exists()


def test_admin_and_ui_link_to_each_other_for_an_organization(staff_client, trio):
    staff = User.objects.get(username="staff")
    staff.is_superuser = True
    staff.save()

    admin_page = staff_client.get(reverse("admin:sbsync_organization_change", args=[trio.acme.pk]))
    ui_page = staff_client.get(detail("acme"))

    assert f'href="{detail("acme")}"' in admin_page.content.decode()
    admin_url = reverse("admin:sbsync_organization_change", args=[trio.acme.pk])
    assert f'href="{admin_url}"' in ui_page.content.decode()
