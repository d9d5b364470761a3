"""The built wheel, installed into a brand-new project with the lines of the README ('Add sbsync to an
existing project').

Builds with ``python -m build`` (hatchling comes from the package index into an isolated build
environment) and installs the wheel with its dependencies into a fresh virtual environment, so missing
package data or dependency metadata fails here rather than in a user's project.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL_DOC = ROOT / "README.md"

SERVE_API = """
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()  # allows the test client's host, as in a test run
client = Client()
schema = client.get("/api/sync/schema/", HTTP_ACCEPT="application/json")
login = client.post("/api/sync/auth/token/", {"username": "nobody", "password": "x"})
print("schema", schema.status_code, "/api/sync/push/" in schema.json()["paths"])
print("login", login.status_code, login.json()["error"])
"""

COMPILE_TEMPLATES = """
from pathlib import Path
import sbsync
from django.template.loader import get_template
root = Path(sbsync.__file__).parent / "templates"
names = sorted(str(p.relative_to(root)) for p in root.rglob("*.html"))
for name in names:
    get_template(name)
print(len(names), "templates compiled")
"""


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: none of the test run's Django, database or sbsync settings."""
    skip = ("DJANGO_", "SBSYNC_", "DATABASE_URL", "REDIS_URL", "PYTHONPATH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip)}


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout + result.stderr


def install_section() -> str:
    text = INSTALL_DOC.read_text()
    start = text.index("## Add sbsync to an existing project")
    return text[start : text.index("\n## ", start + 1)]


def install_script(sbsync: Path) -> str:
    """The README's install section as one shell script: its ``sh`` blocks in order, each ``python`` block
    added to the end of the file its first line names (``# mysite/settings.py``), ``SBSYNC`` set to
    ``sbsync``. Every line is echoed (``set -x``), so a failure names the README line."""
    lines = ["set -ex"]
    for kind, body in re.findall(r"```(sh|python)\n(.*?)```", install_section(), flags=re.S):
        body = textwrap.dedent(body)
        if kind == "sh":
            lines += [
                f"SBSYNC={sbsync}" if line.startswith("SBSYNC=") else line for line in body.splitlines()
            ]
        else:
            target, _, code = body.partition("\n")
            assert re.fullmatch(r"# [\w/]+\.py", target), f"a python block must start with its file: {target}"
            lines += [f"cat >> {target[2:]} <<'README_BLOCK'", "", code.rstrip(), "README_BLOCK"]
    return "\n".join(lines) + "\n"


def source_files(folder: str) -> set[str]:
    base = ROOT / folder / "sbsync"
    return {f"sbsync/{folder}/sbsync/{p.relative_to(base)}" for p in base.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT)
    (built,) = out.glob("sbsync-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_templates_static_files_and_migrations_but_not_the_demo(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    assert source_files("templates") <= names
    assert source_files("static") <= names
    assert "sbsync/static/sbsync/favicon.svg" in names
    assert "sbsync/migrations/0001_initial.py" in names
    assert "sbsync/management/commands/show_models.py" in names
    assert [n for n in names if n.startswith("sbsync/demo") or n.startswith("tests/")] == []


PROJECT_STATE = """
from sbsync.models import Membership, ModelPermission
member = Membership.objects.select_related("user", "organization", "group").get()
print("member", member.user.username, member.organization.slug, member.group.name, member.user.check_password("correct-horse-battery"))
for row in ModelPermission.objects.filter(model_label="inventory.Item").select_related("group").order_by("group__name"):
    print("permission", row.group.name, row.can_pull, row.can_push)
"""


def test_install_script_is_the_readme_section_line_by_line():
    script = install_script(Path("/wheels/sbsync.whl"))

    assert "SBSYNC=/wheels/sbsync.whl\n" in script
    assert "python manage.py makemigrations inventory\n" in script
    assert "cat >> mysite/settings.py <<'README_BLOCK'\n" in script
    assert "cat >> inventory/models.py <<'README_BLOCK'\n" in script
    assert script.index("startapp inventory") < script.index("mysite/settings.py") < script.index("migrate")


@pytest.mark.slow
def test_the_readme_install_section_works_as_written_with_the_wheel(wheel, tmp_path):
    script = tmp_path / "readme.sh"
    script.write_text(install_script(wheel))
    result = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"the README's install section failed:\n{result.stderr[-4000:]}"
    project, python = tmp_path / "mysite", tmp_path / ".venv" / "bin" / "python"

    summary = run(python, "manage.py", "show_models", "--action", "summary", cwd=project)
    state = run(python, "manage.py", "shell", "-c", PROJECT_STATE, cwd=project)
    static = run(python, "manage.py", "findstatic", "sbsync/favicon.svg", cwd=project)
    templates = run(python, "manage.py", "shell", "-c", COMPILE_TEMPLATES, cwd=project)
    api = run(python, "manage.py", "shell", "-c", SERVE_API, cwd=project)

    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "1 of 2 candidate models enabled (1 tenant, 0 shared pull-only)." in summary
    assert "inventory: 1 of 2 enabled\n  enabled:  inventory.Item\n  disabled: inventory.Note\n" in summary
    for foreign in ("auth.", "contenttypes.", "sessions.", "admin.", "sbsync.", "knox.", "Historical"):
        assert foreign not in summary
    assert "member john acme-corp Managers True" in state
    assert "permission Managers True True" in state
    assert "permission Read Only True False" in state
    assert "schema 200 True" in api
    assert "login 400 invalid_credentials" in api
    assert str(tmp_path / ".venv") in static
    assert (
        f"{len([n for n in source_files('templates') if n.endswith('.html')])} templates compiled"
        in templates
    )
