"""Which Django permissions each page and each write of the staff UI needs, as the admin does it.

One line per route (its URL name): the permissions a reading request (GET, HEAD) needs and those a
write (POST) needs. ``staff_required`` looks the route up on every request, so a route missing here is
refused to everyone but superusers, who hold every permission (``User.has_perm``). ``AnyOf`` is a page
that shows several models and opens when the user may view one of them; the view then shows only those.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Permission

from sbsync.ui.http import StaffRequest


@dataclass(frozen=True)
class AnyOf:
    permissions: tuple[str, ...]


Need = tuple[str, ...] | AnyOf

AUDITED_VIEWS = AnyOf(
    (
        "sbsync.view_organization",
        "sbsync.view_membership",
        "sbsync.view_modelpermission",
        "sbsync.view_datafilter",
        "sbsync.view_discoveryconfig",
    )
)
PUBLIC = ("login", "logout")

# url name: (to read, to write)
ROUTES: dict[str, tuple[Need, Need]] = {
    "dashboard": (("sbsync.view_synclog",), ()),
    "permission-matrix": (
        ("sbsync.view_modelpermission",),
        ("sbsync.add_modelpermission", "sbsync.change_modelpermission"),
    ),
    "permission-cell": ((), ("sbsync.add_modelpermission", "sbsync.change_modelpermission")),
    "permission-bulk": ((), ("sbsync.add_modelpermission", "sbsync.change_modelpermission")),
    "permission-undo": ((), ("sbsync.add_modelpermission", "sbsync.change_modelpermission")),
    "data-filters": (("sbsync.view_datafilter",), ()),
    "data-filter-add": (("sbsync.add_datafilter",), ("sbsync.add_datafilter",)),
    "data-filter-edit": (("sbsync.view_datafilter",), ("sbsync.change_datafilter",)),
    "data-filter-delete": ((), ("sbsync.delete_datafilter",)),
    "model-discovery": (("sbsync.view_discoveryconfig",), ("sbsync.change_discoveryconfig",)),
    "model-discovery-preview": (("sbsync.view_discoveryconfig",), ()),
    "sync-logs": (("sbsync.view_synclog",), ()),
    "sync-log-detail": (("sbsync.view_synclog",), ()),
    "metrics": (("sbsync.view_performancemetrics",), ()),
    "audit-trails": (AUDITED_VIEWS, ()),
    "organizations": (("sbsync.view_organization",), ("sbsync.add_organization",)),
    "organization-detail": (
        ("sbsync.view_organization", "sbsync.view_membership"),
        ("sbsync.change_organization",),
    ),
    "membership-add": ((), ("sbsync.add_membership",)),
    "membership-edit": ((), ("sbsync.change_membership",)),
    "membership-delete": ((), ("sbsync.delete_membership",)),
    "tokens": (("sbsync.view_servicetoken",), ("sbsync.add_servicetoken",)),
    "token-revoke": ((), ("sbsync.change_servicetoken",)),
}

# Issuing a token that acts as another user lets the issuer act as that user through the API.
ISSUE_FOR_OTHERS = "sbsync.issue_token_for_others"


def missing_permissions(request: StaffRequest) -> tuple[str, ...]:
    """The permissions the request's user lacks for this route and method (empty: allowed)."""
    match = request.resolver_match
    name = match.url_name if match is not None else None
    if name in PUBLIC:
        return ()
    if name not in ROUTES:
        return ("superuser",) if not request.user.is_superuser else ()
    read, write = ROUTES[str(name)]
    need = read if request.method in ("GET", "HEAD") else write
    if not need and not request.user.is_superuser:
        # A route refuses the methods it has no rule for (a POST to a read-only page, a GET of a write).
        return ("superuser",)
    if isinstance(need, AnyOf):
        held = [p for p in need.permissions if request.user.has_perm(p)]
        return () if held else need.permissions
    return tuple(p for p in need if not request.user.has_perm(p))


def describe(codes: tuple[str, ...]) -> str:
    """``Can view data filter (sbsync.view_datafilter)`` for each permission code."""
    names = {
        f"{p.content_type.app_label}.{p.codename}": p.name
        for p in Permission.objects.filter(codename__in=[c.split(".", 1)[-1] for c in codes]).select_related(
            "content_type"
        )
    }
    return ", ".join(f"“{names[c]}” ({c})" if c in names else c for c in codes)
