"""sb-sync's names for what sbsync renamed, so that an error about one can say the new name."""

from __future__ import annotations

LEGACY_APP_LABEL = "sb_sync"

# sb-sync's model names whose sbsync model has another name.
RENAMED_MODELS = {"UserOrganization": "Membership"}


def app_label_hint(label: str) -> str:
    """A sentence naming sbsync's app label when ``label`` is sb-sync's, else ''."""
    if label.lower() != LEGACY_APP_LABEL:
        return ""
    return f" sb-sync's app label {LEGACY_APP_LABEL!r} is 'sbsync' here."


def model_label_hint(label: str) -> str:
    """A sentence naming sbsync's label for sb-sync's model label ``label`` (``sb_sync.Organization`` →
    ``sbsync.Organization``), else ''."""
    app_label, _, name = label.partition(".")
    if app_label.lower() != LEGACY_APP_LABEL or not name:
        return ""
    return f" sb-sync's app label {LEGACY_APP_LABEL!r} is 'sbsync' here: use sbsync.{RENAMED_MODELS.get(name, name)}."
