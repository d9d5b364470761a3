from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from sbsync.config_io import FORMAT, export_config
from sbsync.models import DataFilter, DiscoveryConfig, ModelPermission
from tests.factories import make_filter, make_permission

SHARED_WARNING = (
    "organizations.{slug}.permissions[{index}]: shop.Product is shared, so only its pull and read flags "
    "take effect (shared models are pull-only)."
)


def current() -> dict:
    return export_config()[0]


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("manage_config", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def configured(trio):
    DiscoveryConfig(include_apps=["shop"], shared_models=["shop.Product"]).save()
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Order", actions=["pull"])
    make_filter(organization=trio.acme, group=trio.members, name="Mine")
    return trio


def test_manage_config_export_reset_import_round_trips_exactly(configured, tmp_path):
    exported, reexported = tmp_path / "config.json", tmp_path / "again.json"
    run("--action", "export", "--file", str(exported), "--format", "json")

    reset_out, _ = run("--action", "reset", "--force")
    emptied = current()
    import_out, import_err = run("--action", "import", "--file", str(exported))
    run("--action", "export", "--file", str(reexported))

    assert reset_out == "Reset: deleted 9 permission(s), 1 data filter(s) and 1 discovery configuration(s).\n"
    assert emptied == {"format": FORMAT, "discovery": None, "organizations": {}}
    assert import_out == f"Imported {exported}: 11 created, 0 updated, 0 deleted.\n"
    assert import_err == (
        f"Warning: {SHARED_WARNING.format(slug='acme', index=3)}\n"
        f"Warning: {SHARED_WARNING.format(slug='globex', index=2)}\n"
    )
    assert reexported.read_text() == exported.read_text()
    assert json.loads(exported.read_text())["discovery"]["include_apps"] == ["shop"]


def test_manage_config_export_without_file_writes_the_document_to_stdout(configured):
    out, err = run("--action", "export")

    assert json.loads(out) == current()
    assert err == ""


def test_manage_config_export_warns_of_the_rows_it_leaves_out(configured):
    DiscoveryConfig(
        include_apps=["shop"], exclude_models=["shop.Order"], shared_models=["shop.Product"]
    ).save()

    out, err = run("--action", "export")

    assert [p["model"] for p in json.loads(out)["organizations"]["globex"]["permissions"]] == [
        "shop.Customer",
        "shop.Product",
        "shop.Report",
    ]
    assert err.splitlines() == [
        f"Warning: organizations.acme: the permission of {group} on shop.Order names a model that is not "
        "enabled for sync; exports leave it out."
        for group in ("Members", "Owners")
    ] + [
        "Warning: organizations.globex: the permission of Owners on shop.Order names a model that is not "
        "enabled for sync; exports leave it out."
    ]


def test_manage_config_show_prints_settings_and_database_configuration(configured):
    out, _ = run("--action", "show")

    settings_part, database_part = out.split("Database configuration:\n")
    assert '  SHARED_MODELS = ["shop.Product"]\n' in settings_part
    assert "  TOKEN_TTL = 604800.0\n" in settings_part
    assert json.loads(database_part) == current()


def test_manage_config_summary_prints_the_counts(configured):
    out, _ = run("--action", "summary")

    assert out.splitlines() == [
        "discovery source: database",
        "enabled models: 4",
        "candidate models: 4",
        "organizations: 2",
        "active organizations: 2",
        "permissions: 9",
        "groups with permissions: 2",
        "data filters: 1",
        "active data filters: 1",
        "settings changed: LOG_DIR, SHARED_MODELS",
    ]


def test_manage_config_validate_accepts_a_sound_configuration(configured):
    out, err = run("--action", "validate")

    assert out.splitlines() == [
        f"warning: {SHARED_WARNING.format(slug='acme', index=3)}",
        f"warning: {SHARED_WARNING.format(slug='globex', index=2)}",
        "The configuration is valid.",
    ]
    assert err == ""


def test_manage_config_validate_fails_on_a_broken_row(configured):
    DataFilter.objects.update(condition={"field": "salary", "operator": "exact", "value": 1})
    err = StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("manage_config", "--action", "validate", stdout=StringIO(), stderr=err)

    assert str(excinfo.value) == "The configuration has 1 error(s)."
    assert err.getvalue() == (
        "error: organizations.acme.filters[0].condition.field: shop.Customer has no field 'salary'.\n"
    )


def test_manage_config_reset_without_force_changes_nothing(configured):
    before = current()

    with pytest.raises(CommandError) as excinfo:
        run("--action", "reset")

    assert str(excinfo.value) == (
        "reset would delete 9 permission(s), 1 data filter(s) and 1 discovery configuration(s); "
        "nothing was changed. Pass --force to do it."
    )
    assert current() == before


def test_manage_config_import_of_an_invalid_document_changes_nothing(configured, tmp_path):
    before = current()
    document = current()
    document["organizations"]["acme"]["permissions"] = []
    document["organizations"]["initech"] = document["organizations"]["acme"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    err = StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command(
            "manage_config", "--action", "import", "--file", str(path), stdout=StringIO(), stderr=err
        )

    assert str(excinfo.value) == f"{path} was not imported: 1 problem(s); nothing was changed."
    assert err.getvalue() == "  organizations.initech: no organization with slug 'initech'.\n"
    assert current() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            "is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2.",
        ),
        (
            b"\xff\xfe",
            "is not UTF-8 text.",
        ),
    ],
)
def test_manage_config_import_of_unreadable_json_changes_nothing(configured, tmp_path, content, message):
    before = current()
    path = tmp_path / "broken.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())

    with pytest.raises(CommandError) as excinfo:
        run("--action", "import", "--file", str(path))

    assert str(excinfo.value) == f"{path} {message}"
    assert current() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--action", "import"], "import needs --file."),
        (
            ["--action", "import", "--file", "/nonexistent/config.json"],
            "/nonexistent/config.json: no such file.",
        ),
        (
            ["--action", "import", "--file", "x.yaml", "--format", "yaml"],
            "Unsupported format 'yaml': use json.",
        ),
        (["--action", "export", "--format", "xml"], "Unsupported format 'xml': use json."),
        (
            ["--action", "export", "--file", "/nonexistent/dir/config.json"],
            "Cannot write /nonexistent/dir/config.json: directory '/nonexistent/dir' does not exist.",
        ),
    ],
)
def test_manage_config_rejects_bad_input_and_changes_nothing(configured, args, message):
    before = current()

    with pytest.raises(CommandError) as excinfo:
        run(*args)

    assert str(excinfo.value) == message
    assert current() == before
    assert ModelPermission.objects.count() == 9


def test_manage_config_rejects_an_unknown_action(configured):
    with pytest.raises(CommandError) as excinfo:
        run("--action", "explode")

    assert str(excinfo.value).startswith("Error: argument --action: invalid choice: 'explode'")


def test_manage_config_bad_format_exits_non_zero_from_the_command_line(tmp_path):
    env = {**os.environ, "SBSYNC_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tests.settings"}

    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "manage_config",
            "--action",
            "export",
            "--format",
            "yaml",
            "--file",
            str(tmp_path / "c.yaml"),
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert (completed.returncode, completed.stderr) == (
        1,
        "CommandError: Unsupported format 'yaml': use json.\n",
    )
    assert not (tmp_path / "c.yaml").exists()
