"""A first pull from a timestamp names no row the caller never could see: tombstones only for rows that
were deleted; rows outside a filtered role's view stay unnamed (mary_sales got 80 ids of others')."""

from __future__ import annotations

from sbsync.enums import Action
from tests.factories import make_customer, make_filter, make_permission

CUSTOMER = "shop.Customer"


def pull_from(client, start, batch_size=2):
    cursor, data, deleted = start, [], []
    while True:
        body = client.post("pull/", {"models": {CUSTOMER: cursor}, "batch_size": batch_size}).json()
        data += body["data"]
        deleted += body["deleted"]
        cursor = body["metadata"][CUSTOMER]["cursor"]
        if not body["batch_info"]["has_more"]:
            return data, deleted, cursor


def sales_role(trio):
    make_permission(organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])
    make_filter(organization=trio.acme, group=trio.members, model_label=CUSTOMER)


def test_first_pull_from_a_timestamp_names_no_row_outside_the_view(trio, api):
    sales_role(trio)
    mine = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    others = [make_customer(organization=trio.acme, assigned_manager=trio.alice) for _ in range(3)]
    gone = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    gone_pk = str(gone.pk)
    gone.delete()

    data, deleted, _ = pull_from(api(trio.bob), "2000-01-01T00:00:00Z")

    assert [r["id"] for r in data] == [str(mine.pk)]
    assert [r["id"] for r in deleted] == [gone_pk]
    assert not {str(o.pk) for o in others} & {r["id"] for r in deleted}


def test_after_the_first_pull_a_row_leaving_the_view_is_deleted(trio, api):
    sales_role(trio)
    mine = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    make_customer(organization=trio.acme, assigned_manager=trio.alice)
    client = api(trio.bob)
    _, _, cursor = pull_from(client, "2000-01-01T00:00:00Z")

    mine.assigned_manager = trio.alice
    mine.save()
    data, deleted, _ = pull_from(client, cursor)

    assert (data, [r["id"] for r in deleted]) == ([], [str(mine.pk)])


def test_from_null_and_from_a_timestamp_agree_for_a_fresh_client(trio, api):
    sales_role(trio)
    make_customer(organization=trio.acme, assigned_manager=trio.bob)
    for _ in range(3):
        make_customer(organization=trio.acme, assigned_manager=trio.alice)

    from_null = pull_from(api(trio.bob), None)[:2]
    from_timestamp = pull_from(api(trio.bob), "2000-01-01T00:00:00Z")[:2]

    assert from_null == from_timestamp


def test_a_tampered_or_unsigned_cursor_is_refused_by_the_api(trio, api):
    make_customer(organization=trio.acme)
    client = api(trio.alice)
    _, _, cursor = pull_from(client, None)
    payload, signature = cursor.rsplit(".", 1)
    tampered = f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"

    answers = [
        client.post("pull/", {"models": {CUSTOMER: bad}})
        for bad in (tampered, payload, f"{payload}.{'x' * len(signature)}", "c:garbage")
    ]

    assert [a.status_code for a in answers] == [400] * 4
    assert {a.json()["error"] for a in answers} == {"invalid_cursor"}
    assert all(a.json()["errors"] == {f"models.{CUSTOMER}": [a.json()["detail"]]} for a in answers)
