"""The permissions document: the one JSON format that ``dynamic_permissions`` generate/export write and
that apply/validate and ``setup_organizations --action set_permissions`` read (sbsync/docs/commands.md).
``manage_config``'s whole-configuration document (sbsync/config_io.py) holds one organization's
``permissions`` and ``filters`` per slug, checked by ``parse_part`` and applied by ``apply_document``::

    {"format": "sbsync.permissions/1",
     "organization": "acme-corp",
     "permissions": [{"group": "Managers", "model": "shop.Customer", "can_push": true, "can_pull": true,
                      "can_create": true, "can_update": true, "can_delete": false, "can_read": true}],
     "filters": [{"group": "Sales", "model": "shop.Customer", "name": "Own customers",
                  "condition": {"field": "assigned_manager", "operator": "exact", "value": "$user"},
                  "is_active": true}]}

A document is checked as a whole before anything is written (``parse_document`` reports every problem
at once) and applied in one transaction through model ``save()``/``delete()``, so the configuration
cache is invalidated and the audit history records each change.
"""

from __future__ import annotations

from sbsync.permissions_io.apply import ApplyMode, ApplyReport, apply_document
from sbsync.permissions_io.build import ROLE_DEFAULTS, current_document, template_document, template_names
from sbsync.permissions_io.document import (
    FORMAT,
    DocumentError,
    FilterEntry,
    PermissionDocument,
    PermissionEntry,
    read_json,
    write_json,
)
from sbsync.permissions_io.validation import load_document, parse_document, parse_part

__all__ = [
    "FORMAT",
    "ROLE_DEFAULTS",
    "ApplyMode",
    "ApplyReport",
    "DocumentError",
    "FilterEntry",
    "PermissionDocument",
    "PermissionEntry",
    "apply_document",
    "current_document",
    "load_document",
    "parse_document",
    "parse_part",
    "read_json",
    "template_document",
    "template_names",
    "write_json",
]
