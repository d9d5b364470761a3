"""The command line and its exit codes, and the client in a virtualenv without Django."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from sbsync.client import Replica
from sbsync.demo.shop.models import Customer
from tests.client.conftest import replica_view, server_view
from tests.client.servers import ROOT, free_port
from tests.factories import PASSWORD

CLIENT_PACKAGES = (
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "idna",
    "certifi",
    "sniffio",
    "tqdm",
    "typing_extensions",
)


def cli(
    *args: str, python: str = sys.executable, password: str | None = PASSWORD
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SBSYNC_PASSWORD", "SBSYNC_TOKEN", "DJANGO_SETTINGS_MODULE")
    }
    if password is not None:
        env["SBSYNC_PASSWORD"] = password
    return subprocess.run(
        [python, "-m", "sbsync.client", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_sync_status_conflicts_and_reset_with_their_exit_codes(world, sync_server, tmp_path):
    db = str(tmp_path / "alice.sqlite3")
    first = cli("sync", "--db", db, "--url", sync_server.url, "--username", "alice", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["pulled"] == 6 + 6 + 2 + 1 + 0  # customers, orders, reports, product

    with Replica(db) as replica:
        row = next(r for r in replica.rows("shop.Customer") if r["name"] == "Acme 5")
        replica.save("shop.Customer", {"id": row["id"], "age": 1})
    Customer.objects.filter(id=row["id"]).update(
        age=2
    )  # a concurrent server edit (no signal: its version stays)
    customer = Customer.objects.get(id=row["id"])
    customer.save()  # now its version moves on

    status = cli("status", "--db", db, "--json")
    conflicted = cli("sync", "--db", db)  # url and user come from the file
    listed = cli("conflicts", "--db", db)
    refused_reset = cli("reset", "--db", db)

    assert (
        json.loads(status.stdout)["pending"] == 1
        and json.loads(status.stdout)["models"]["shop.Customer"]["rows"] == 6
    )
    assert conflicted.returncode == 3, conflicted.stderr
    assert "conflicts 1" in conflicted.stdout
    assert f"shop.Customer {row['id']}: conflict" in listed.stdout and "resolved: server" in listed.stdout
    assert refused_reset.returncode == 0 and not Path(db).exists()  # nothing unsent: reset allowed

    again = cli("sync", "--db", db, "--url", sync_server.url, "--username", "alice", "--quiet")
    assert again.returncode == 0, again.stderr
    with Replica(db) as replica:
        replica.save("shop.Customer", {"name": "Unsent"})
    assert cli("reset", "--db", db).returncode == 1 and Path(db).exists()
    assert cli("reset", "--db", db, "--force").returncode == 0 and not Path(db).exists()


def test_exit_codes_for_credentials_network_and_another_users_file(world, sync_server, tmp_path):
    db = str(tmp_path / "r.sqlite3")
    bad_password = cli("sync", "--db", db, "--url", sync_server.url, "--username", "alice", password="wrong")
    unreachable = cli(
        "sync",
        "--db",
        str(tmp_path / "x.sqlite3"),
        "--url",
        f"http://127.0.0.1:{free_port()}/api/sync/",
        "--username",
        "alice",
        "--retries",
        "2",
    )
    assert cli("sync", "--db", db, "--url", sync_server.url, "--username", "bob").returncode == 0
    mismatch = cli("sync", "--db", db, "--url", sync_server.url, "--username", "alice")

    assert bad_password.returncode == 4 and "refused the login" in bad_password.stderr
    assert unreachable.returncode == 5 and "failed" in unreachable.stderr
    assert mismatch.returncode == 6 and "'bob'" in mismatch.stderr


def test_the_client_runs_in_a_virtualenv_without_django(world, sync_server, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sbsync").symlink_to(ROOT / "sbsync")
    for name in CLIENT_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (site / source.name).symlink_to(source)
    python = str(venv / "bin" / "python")
    (next((venv / "lib").glob("python3*")) / "site-packages" / "client.pth").write_text(str(site))
    script = (
        "import importlib.util, json, sys; import sbsync.client as c; "
        "assert importlib.util.find_spec('django') is None; "
        f"r = c.Replica({str(tmp_path / 'nodj.sqlite3')!r}, url={sync_server.url!r}, username='alice', password={PASSWORD!r}); "
        "rep = r.sync(); print(json.dumps([rep.pulled, sorted(m for m in sys.modules if m.split('.')[0] == 'django')]))"
    )
    result = subprocess.run([python, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    by_cli = cli(
        "sync",
        "--db",
        str(tmp_path / "cli.sqlite3"),
        "--url",
        sync_server.url,
        "--username",
        "alice",
        python=python,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [15, []]
    assert by_cli.returncode == 0, by_cli.stderr
    with Replica(str(tmp_path / "nodj.sqlite3")) as replica:
        assert replica_view(replica) == server_view(sync_server.url, "alice")
