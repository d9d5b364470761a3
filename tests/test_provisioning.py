from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from sbsync.models import Membership
from sbsync.provisioning import AlreadyMember, UnknownUser, add_member


def test_a_service_account_is_created_without_a_usable_password(trio):
    result = add_member(username="scanner", organization=trio.acme, group=trio.members, service_account=True)

    user = User.objects.get(username="scanner")
    assert (result.outcome, result.user_created, result.membership.user) == ("added", True, user)
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).group == trio.members


def test_an_unknown_user_without_password_or_service_account_is_refused_and_nothing_written(trio):
    with pytest.raises(UnknownUser):
        add_member(username="ghost", organization=trio.acme, group=trio.members)

    assert not User.objects.filter(username="ghost").exists()


def test_move_false_refuses_an_existing_member_and_keeps_the_group(trio):
    with pytest.raises(AlreadyMember):
        add_member(username="bob", organization=trio.acme, group=trio.owners, move=False)

    assert Membership.objects.get(user=trio.bob, organization=trio.acme).group == trio.members


def test_move_true_moves_an_existing_member(trio):
    result = add_member(username="bob", organization=trio.acme, group=trio.owners)

    assert (result.outcome, result.previous_group) == ("moved", trio.members)
    assert Membership.objects.get(user=trio.bob, organization=trio.acme).group == trio.owners
