"""sb-sync's permission files, read and written for projects that move from it.

sb-sync's ``dynamic_permissions`` (generate, export) wrote, and its ``apply`` and ``setup_organizations
--action set_permissions`` read, one object per group, one object per model label, with the six flags::

    {"Managers": {"myapp.Customer": {"can_push": true, "can_pull": true, "can_create": true,
                                     "can_update": true, "can_delete": false, "can_read": true}}}

``convert`` turns such a file into sbsync's document (then checked by the same rules as any other) and
says what does not map; ``from_document`` writes an sbsync document back in that shape.
"""

from __future__ import annotations

from typing import Any

from sbsync.models.access import FLAG_FIELDS
from sbsync.permissions_io.document import FORMAT, PermissionDocument

NAME = "sb-sync"


def is_sb_sync_file(data: Any) -> bool:
    """A non-empty object without ``format`` whose every value is an object of objects: group → model → flags."""
    return (
        isinstance(data, dict)
        and bool(data)
        and "format" not in data
        and all(
            isinstance(models, dict) and all(isinstance(flags, dict) for flags in models.values())
            for models in data.values()
        )
    )


def convert(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """sbsync's document for sb-sync's file ``data``, and a note for each thing that does not map.

    Flags map one to one (an omitted flag is false, as sb-sync's apply read it). sb-sync also stored a
    ``filters`` object on a permission, which it never enforced: it is reported, not converted, since
    sbsync's row filters narrow what a group sees and must be written on purpose (the document's
    ``filters`` list, or the UI). Any other key is reported and left out."""
    permissions: list[dict[str, Any]] = []
    notes = [
        "read sb-sync's permission format (group → model → flags) and converted it; write sbsync's own with "
        "dynamic_permissions --action export. sb-sync's apply replaced the organization's whole "
        "configuration: pass --replace for that, otherwise rows the file does not name are kept."
    ]
    for group, models in data.items():
        for label, flags in models.items():
            where = f"{group} → {label}"
            entry = {"group": group, "model": label}
            entry |= {flag: flags[flag] for flag in FLAG_FIELDS if flag in flags}
            permissions.append(entry)
            if flags.get("filters"):
                notes.append(
                    f"{where}: 'filters' {flags['filters']!r} is not converted (sb-sync stored it but never "
                    "applied it); add a row filter in the document's 'filters' list or in the staff UI."
                )
            extra = sorted(set(flags) - set(FLAG_FIELDS) - {"filters"})
            if extra:
                notes.append(f"{where}: left out keys with no meaning here: {', '.join(map(repr, extra))}.")
    return {"format": FORMAT, "permissions": permissions}, notes


def from_document(document: PermissionDocument) -> tuple[dict[str, Any], list[str]]:
    """sb-sync's file for ``document``, and a note for each thing its format cannot hold (row filters)."""
    data: dict[str, dict[str, dict[str, bool]]] = {}
    for entry in document.permissions:
        data.setdefault(entry.group.name, {})[entry.label] = dict(entry.flags)
    notes = [
        f"left out the filter {f.name!r} of {f.group.name} on {f.label}: sb-sync's permission file has no row filters."
        for f in document.filters
    ]
    return data, notes
