from __future__ import annotations

from django.db import transaction

from sbsync.models import ModelPermission
from sbsync.permission_rows import write_permission_flags


def flags(organization, group, label):
    row = ModelPermission.objects.get(organization=organization, group=group, model_label=label)
    return (row.can_pull, row.can_push, row.history.count(), row.history.first().history_change_reason)


def test_only_named_flags_change_with_history_and_other_organizations_untouched(trio):
    before_globex = list(ModelPermission.objects.filter(organization=trio.globex).values())

    with transaction.atomic():
        changes = write_permission_flags(
            trio.acme,
            {
                (trio.owners.pk, "shop.Customer"): {"can_push": False},
                (trio.members.pk, "shop.Order"): {"can_pull": True},
            },
            reason="test",
        )

    assert sorted((c.row.model_label, c.before is None, c.flags_changed) for c in changes) == [
        ("shop.Customer", False, 1),
        ("shop.Order", True, 1),
    ]
    assert flags(trio.acme, trio.owners, "shop.Customer") == (True, False, 2, "test")
    assert flags(trio.acme, trio.members, "shop.Order") == (True, False, 1, "test")
    assert list(ModelPermission.objects.filter(organization=trio.globex).values()) == before_globex


def test_unchanged_rows_and_empty_new_rows_are_not_written(trio):
    with transaction.atomic():
        changes = write_permission_flags(
            trio.acme,
            {
                (trio.owners.pk, "shop.Customer"): {"can_pull": True},
                (trio.members.pk, "shop.Order"): {"can_pull": False},
            },
            create_empty=False,
        )

    assert changes == []
    assert not ModelPermission.objects.filter(organization=trio.acme, group=trio.members).exists()
    assert (
        ModelPermission.objects.get(
            organization=trio.acme, group=trio.owners, model_label="shop.Customer"
        ).history.count()
        == 1
    )
