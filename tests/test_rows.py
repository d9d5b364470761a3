from __future__ import annotations

from django.db import connections

from sbsync.rows import once_per_database


def test_a_lookup_is_built_once_per_database_backend_and_again_after_a_setting_it_depends_on(
    db, settings, monkeypatch
):
    built = []
    lookup = once_per_database(lambda connection: built.append(connection.vendor) or len(built))
    vendor = connections["default"].vendor

    assert (lookup(), lookup()) == (1, 1)
    # A test may put another backend's connection under the alias (the health checks do): its own.
    monkeypatch.setattr(connections["default"], "vendor", "other")
    assert lookup() == 2
    monkeypatch.undo()
    assert lookup() == 1
    settings.TIME_ZONE = "Europe/Paris"
    assert lookup() == 3
    assert built == [vendor, "other", vendor]
