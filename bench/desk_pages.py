"""Throughput and latency of the busiest pages under gunicorn, measured with wrk.

Run by hand against PostgreSQL (not part of `make test`):

    DATABASE_URL=postgres://ill:ill@127.0.0.1:5433/ill_bench .venv/bin/python bench/desk_pages.py --requests 5000

It migrates the given database, loads the demo, adds N requests spread over the states, starts
gunicorn (production settings, DEBUG off, persistent connections, 2 sync workers — RECIPES.md)
and runs `wrk -t2 -c16 -d10s` with a logged-in session against each page.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {
    "desk home (worklist counts)": "/desk/",
    "queue, 25 rows": "/desk/requests/?branch=",
    "queue, 100 rows, search": "/desk/requests/?branch=&size=100&q=Book",
    "patron dashboard": "/my/",
    "health": "/health/",
}


SECRET = "bench-" + "x" * 50  # the same key signs the sessions here and in gunicorn


def prepare(n: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_SECRET_KEY"] = SECRET
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    from ill.models import LendingInstitution, Request
    from patrons.models import Patron

    call_command("migrate", verbosity=0)
    call_command("load_demo", "--no-samples", verbosity=0)
    patrons = list(Patron.objects.all())
    lender = LendingInstitution.objects.first()
    have = Request.objects.filter(number__startswith="ILL-2020-").count()
    states = ["submitted", "ordered", "arrived", "on_loan", "returned", "closed"]
    Request.objects.bulk_create(
        [
            Request(
                number=f"ILL-2020-{i:06d}",
                patron=patrons[i % len(patrons)],
                kind="loan",
                status=states[i % 6],
                title=f"Book {i} on information retrieval",
                material_type="book",
                pickup_branch=patrons[i % len(patrons)].home_branch,
                lender=None if i % 6 == 0 else lender,
                due_date=(timezone.localdate() + timezone.timedelta(days=i % 30 - 15)) if i % 6 == 3 else None,
            )
            for i in range(have, n)
        ],
        batch_size=1000,
    )

    def session_for(username):
        user = get_user_model().objects.get(username=username)
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = "patrons.backends.DeskBackend"
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    return session_for("staff"), session_for("u2301001")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check(url: str, cookie: str) -> None:
    """The page must answer 200 for this session, or wrk would measure a redirect to the login."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    try:
        status = opener.open(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status != 200:
        sys.exit(f"{url} answered {status}, not 200")


def wrk(url: str, cookie: str) -> tuple[float, str]:
    check(url, cookie)
    out = subprocess.run(
        ["wrk", "-t2", "-c16", "-d10s", "--latency", "-H", f"Cookie: sessionid={cookie}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99 + (f" ({errors.group(1)} non-2xx)" if errors else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database")
    staff, patron = prepare(args.requests)
    workdir = Path(tempfile.mkdtemp(prefix="ill-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-c",
            "gunicorn.conf.py",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--pid",
            str(workdir / "gunicorn.pid"),
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(workdir / "gunicorn.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        print(f"{args.requests} requests in the database; gunicorn 2 sync workers; wrk -t2 -c16 -d10s")
        print(f"{'page':45} {'req/s':>8}  p99")
        for name, path in PAGES.items():
            cookie = patron if path.startswith("/my/") else staff
            rps, p99 = wrk(f"http://127.0.0.1:{args.port}{path}", cookie)
            print(f"{name:45} {rps:8.0f}  {p99}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
