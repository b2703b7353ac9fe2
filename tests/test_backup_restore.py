"""Backup and restore as the README's "Operations" says (issue 12, finding 8): `pg_dump -Fc` of a
database with requests, a fresh database (dropped and created again), `pg_restore`, and the app —
a `manage.py shell` of its own pointed at the restored database — sees the same requests: ids,
numbers, statuses, patrons, charges, history; its sequences continue after the restored rows and
no migration is missing. Needs PostgreSQL and its client tools (a failure under CI=true)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from fees.models import Charge
from ill.models import Request, RequestEvent
from tests import factories as f
from tests.conftest import need

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent

READ_BACK = """
import json
from django.core.management import call_command
from fees.models import Charge
from ill.models import Request, RequestEvent
from patrons.models import Branch
requests = [
    [r.pk, r.number, r.kind, r.status, r.patron.patron_number, r.title]
    for r in Request.objects.select_related("patron").order_by("pk")
]
charges = sorted(Charge.objects.values_list("request_id", "payment_class", "total", "state"))
events = RequestEvent.objects.count()
top = max(Branch.objects.values_list("pk", flat=True))
new = Branch.objects.create(code="after-restore", name="after restore").pk
call_command("migrate", check=True, plan=False, verbosity=0)
print(json.dumps({"requests": requests, "charges": [list(c) for c in charges], "events": events,
                  "sequence_continues": new > top}))
"""


def client_tool(name: str) -> str | None:
    """pg_dump / pg_restore of the server's major version when installed (Debian keeps one per
    version in /usr/lib/postgresql/N/bin), else the one on PATH."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    versioned = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    return str(versioned) if versioned.exists() else shutil.which(name)


def libpq_env(settings_dict: dict) -> dict:
    return {
        **os.environ,
        "PGHOST": settings_dict["HOST"] or "127.0.0.1",
        "PGPORT": str(settings_dict["PORT"] or 5432),
        "PGUSER": settings_dict["USER"],
        "PGPASSWORD": settings_dict["PASSWORD"] or "",
    }


def run(args, env):
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


def sql(statement: str):
    with connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.fixture
def requests_on_record(undergraduate, doctoral, lender):
    made = [
        f.RequestFactory(patron=undergraduate, title="東京の本"),
        f.RequestFactory(patron=doctoral, status="ordered", lender=lender),
        f.CopyRequestFactory(patron=doctoral, status="handed_over", lender=lender),
        f.RequestFactory(patron=undergraduate, status="cancelled"),
    ]
    f.ChargeFactory(request=f.RequestFactory(patron=undergraduate, status="arrived", lender=lender), total=1600)
    f.ChargeFactory(request=made[2], total=980, payment_class="private", state="paid")
    f.RequestEventFactory(request=made[0], note="a note")
    return made


def test_a_pg_dump_restored_into_a_fresh_database_gives_the_app_the_same_requests(requests_on_record, tmp_path):
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    pg_dump, pg_restore = client_tool("pg_dump"), client_tool("pg_restore")
    need(bool(pg_dump and pg_restore), "pg_dump and pg_restore (postgresql-client)")
    settings_dict = connection.settings_dict
    env = libpq_env(settings_dict)
    source = settings_dict["NAME"]
    target = f"{source}_restored_{os.getpid()}"
    dump = tmp_path / "ill.dump"

    expected = {
        "requests": [
            [r.pk, r.number, r.kind, r.status, r.patron.patron_number, r.title]
            for r in Request.objects.select_related("patron").order_by("pk")
        ],
        "charges": [
            list(c) for c in sorted(Charge.objects.values_list("request_id", "payment_class", "total", "state"))
        ],
        "events": RequestEvent.objects.count(),
        "sequence_continues": True,
    }
    assert len(expected["requests"]) == 5 and len(expected["charges"]) == 2

    # The README's procedure: dump in the custom format, then into an empty database.
    run([pg_dump, "-Fc", "--no-owner", "-d", source, "-f", str(dump)], env)
    f.RequestFactory(title="written after the backup")  # not in the dump: the restore shows the dump
    try:
        sql(f'CREATE DATABASE "{target}"')
        sql(f'DROP DATABASE "{target}"')  # "drop, create again": what a restore over a broken database does
        sql(f'CREATE DATABASE "{target}"')
        run([pg_restore, "--no-owner", "--exit-on-error", "-d", target, str(dump)], env)

        url = "postgres://{user}:{password}@{host}:{port}/{name}".format(
            user=quote(settings_dict["USER"]),
            password=quote(settings_dict["PASSWORD"] or ""),
            host=env["PGHOST"],
            port=env["PGPORT"],
            name=target,
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", READ_BACK],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        )
        assert result.returncode == 0, result.stderr
        seen = json.loads(result.stdout.strip().splitlines()[-1])
        assert seen == expected
    finally:
        sql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
