"""Throughput and latency of the desk's and the patron's pages under the production gunicorn config.

Run from the project root against the data set of `bench/generate.py` (PostgreSQL), a Redis broker
(the production settings need one; `/health/` checks it) and, as production has it, a shared cache:

    DATABASE_URL=postgres://ill:ill@127.0.0.1:5439/ill_bench CELERY_BROKER_URL=redis://127.0.0.1:6391/15 \\
    CACHE_URL=redis://127.0.0.1:6391/14 \\
        .venv/bin/python bench/pages.py [--runs 6] [--duration 10] [--only queue] [--markdown] [--explain]

(`make bench BENCH_ARGS="--runs 6 --markdown"` does the same, generating the data first if missing.)

What it does:

1. Sets up Django in-process with `bench.settings` (config.settings.production, DEBUG off, plus the
   bare view of `bench/urls.py`), logs in the desk's `staff` and the dashboard patron `bench200`
   (real sessions in the session store, the way a login makes them), picks a request in each state
   from the data and resolves the queue's deep page by following its own "next" links.
2. Counts the queries of each page in-process (django.test.Client + CaptureQueriesContext, the same
   database, the second of two requests so that per-process warm-up is not counted).
3. Collects the static files into a temporary directory and starts gunicorn with
   `gunicorn.conf.py` (2 workers, whatever else the file says), then runs
   `wrk -t2 -c16 -d<duration>s --latency` against each page, `--runs` times, and prints the median
   req/s, p50 and p99 of the runs. The bare view is measured first and again last; "× bare" is a
   page's req/s divided by the mean of those two.
4. Times patron submissions with every rule (loans and copies, public expense with a budget code):
   sequential POSTs through gunicorn with a real session and CSRF token (`--submissions`, 0 to skip),
   median and p99. The requests it submitted are cancelled afterwards and their e-mails removed
   from the outbox, so that the data set stays as it was (bar those cancelled requests).

With `--explain` it also prints each page's slowest query with its plan (every SELECT of the page
run again under EXPLAIN ANALYZE, BUFFERS; the longest execution shown). Pages are the PAGES list
below: edit it to add one. The commit measured (gunicorn serves the working tree as it is), the
cache backend and the machine's load average are printed with the results: on a shared machine
the figures are noisy, and a second run is the honest check.
"""

import argparse
import html
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-pages-" + "k" * 48  # signs the sessions here and in gunicorn alike
STAFF, PATRON = "staff", "bench200"
SUBMITTER_PREFIX = "benchsub"
BACKEND = "patrons.backends.DeskBackend"
MAX_LOANS_EACH = 4  # a submitter stays under the five-book limit (its requests are cancelled afterwards)


@dataclass
class Page:
    """One page to measure: `target` is a path, or a function of the data set (`Data`) giving one.
    `form` (a function of the data set) makes it a POST of those fields, with the CSRF token."""

    name: str
    who: str | None  # STAFF, PATRON or None (anonymous)
    target: object
    form: object = None


def detail(status: str, **filters):
    """The staff page of the newest request in this state at the central library."""
    return lambda data: data.request_url(status, **filters)


PAGES = [
    Page("desk home (worklists)", STAFF, "/desk/"),
    Page("queue, default (25 rows)", STAFF, "/desk/requests/"),
    Page("queue, search + status", STAFF, "/desk/requests/?q=%E6%A9%9F%E6%A2%B0%E5%AD%A6%E7%BF%92&status=closed"),
    Page("queue, page 1,000", STAFF, lambda data: data.deep_queue_page(1000)),
    Page("staff detail: submitted (order form)", STAFF, detail("submitted", reviewed_at__isnull=False)),
    Page("staff detail: ordered", STAFF, detail("ordered")),
    Page("staff detail: arrived", STAFF, detail("arrived")),
    Page("staff detail: on loan", STAFF, detail("on_loan")),
    Page("staff detail: returned", STAFF, detail("returned")),
    Page("lender picker (JSON, typed 大学)", STAFF, lambda data: data.lender_search("大学")),
    Page("patron dashboard (200 requests)", PATRON, "/my/"),
    Page("request form (loan)", PATRON, "/my/requests/new/loan/"),
    Page("confirm step (loan, every rule)", PATRON, "/my/requests/new/loan/", form=lambda data: data.loan_form()),
    Page("confirm step (copy, every rule)", PATRON, "/my/requests/new/copy/", form=lambda data: data.copy_form()),
    Page("/health/", None, "/health/"),
    Page("charges report", STAFF, "/desk/reports/charges/"),
    # The reports of DESIGN §10 (issue 11), on the last complete fiscal year and the current one.
    Page("reports: at a glance", STAFF, "/desk/reports/"),
    Page("reports: requests, FY2025", STAFF, "/desk/reports/requests/?year=2025"),
    Page("reports: fill rate, FY2025", STAFF, "/desk/reports/fill-rate/?year=2025"),
    Page("reports: turnaround, FY2025", STAFF, "/desk/reports/turnaround/?year=2025"),
    Page("reports: charges, FY2025", STAFF, "/desk/reports/charge-totals/?year=2025"),
    Page("reports: support budget", STAFF, "/desk/reports/support/"),
    Page("reports: copyright log, FY2025", STAFF, "/desk/reports/copyright/?year=2025"),
    Page("reports: annual survey, FY2025", STAFF, "/desk/reports/survey/?year=2025"),
    Page("reports: NACSIS charge lines, 2026-03", STAFF, "/desk/reports/nacsis/?year=2025&month=3"),
    Page("reports: offset statements", STAFF, "/desk/reports/offset/"),
]
BARE = Page("bare view", None, "/bench/bare/")


@dataclass
class Result:
    page: Page
    url: str
    rps: list = field(default_factory=list)
    p50: list = field(default_factory=list)
    p99: list = field(default_factory=list)
    errors: str = ""
    queries: int | None = None
    load: float = 0.0
    plan: str = ""


# --- the data set ----------------------------------------------------------------------------


class Data:
    """What the pages need from the generated data: sessions, request numbers, form data."""

    def __init__(self):
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client

        from patrons.models import Branch

        User = get_user_model()
        self.users = {name: User.objects.get(username=name) for name in (STAFF, PATRON)}
        self.clients = {None: Client()}
        self.sessions = {None: ""}
        for name, user in self.users.items():
            client = Client()
            client.force_login(user, backend=BACKEND)
            self.clients[name] = client
            self.sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.central = Branch.objects.get(code="central")
        self.csrf = {}
        self.explain = False

    def newest(self, status: str, **filters):
        """The newest request in this state at the central library."""
        from ill.models import Request

        found = (
            Request.objects.filter(status=status, pickup_branch=self.central, **filters)
            .order_by("-submitted_at")
            .first()
        )
        if found is None:
            raise LookupError(f"no request is {status} at the central library")
        return found

    def request_url(self, status: str, **filters) -> str:
        return self.newest(status, **filters).get_desk_url()

    def lender_search(self, typed: str) -> str:
        """What the order form's lender picker asks while staff type, for a request to order."""
        number = self.newest("submitted", reviewed_at__isnull=False).number
        return "/desk/lenders/?" + urllib.parse.urlencode({"format": "json", "q": typed, "request": number})

    def deep_queue_page(self, n: int) -> str:
        """The queue's n-th page, reached the way staff reach it: `?page=n` if the queue has page
        numbers, otherwise its "next" link followed n − 1 times (keyset pagination)."""
        client = self.clients[STAFF]
        url = "/desk/requests/"
        body = client.get(url).content.decode()
        if re.search(r'href="[^"]*[?&](amp;)?page=2\b', body):
            return f"{url}?page={n}"
        for _ in range(n - 1):
            found = re.search(r'<a[^>]*href="([^"]+)"[^>]*rel="next"', body)
            if found is None:
                raise LookupError(f"the queue has fewer than {n} pages")
            url = urllib.parse.urljoin(url, html.unescape(found.group(1)))
            body = client.get(url).content.decode()
        return url

    def budget_code(self, username: str):
        from fees.budgets import budget_codes_for
        from patrons.models import Patron

        return budget_codes_for(Patron.objects.get(user__username=username)).first()

    def loan_form(self, username: str = PATRON, serial: int = 1) -> dict:
        """A public-expense loan that passes every rule: a book not held here, not asked before."""
        code = self.budget_code(username)
        return {
            "material_type": "book",
            "title": f"Benchmarking interlibrary loan, volume {serial}",
            "author": "Bench, A.",
            "publisher": "Bench Press",
            "pub_year": "2012",
            "isbn": isbn13(f"97849{serial % 10_000_000:07d}"),
            "pickup_branch": str(self.central.pk),
            "scope": "domestic",
            "expense_type": "public" if code else "private",
            "budget_code": str(code.pk) if code else "",
        }

    def copy_form(self, username: str = PATRON, serial: int = 1) -> dict:
        """A public-expense copy of an article that passes every rule, copyright included."""
        code = self.budget_code(username)
        return {
            "material_type": "article",
            "title": "Journal of Benchmarks",
            "article_title": f"On the speed of interlibrary loan desks, part {serial}",
            "article_author": "Bench, A.",
            "volume": str(serial),  # with the title, what makes each copy a new article (ill.rules.duplicate)
            "issue": str(1 + serial % 12),
            "pages": "101-110",
            "pub_year": "2014",
            "issue_date": "2014-03-01",
            "periodical_frequency": "monthly",
            "page_count": "10",
            "colour_pages": "0",
            "paper_size": "A4",
            "delivery_method": "mail",
            "purpose": "research",
            "copyright_accepted": "on",
            "pickup_branch": str(self.central.pk),
            "scope": "domestic",
            "expense_type": "public" if code else "private",
            "budget_code": str(code.pk) if code else "",
        }

    def csrf_token(self, who: str, path: str) -> str:
        """The CSRF cookie of `who` (set by the form page), the same value the form would carry."""
        from django.conf import settings

        client = self.clients[who]
        if who not in self.csrf:
            client.get(path)
            self.csrf[who] = client.cookies[settings.CSRF_COOKIE_NAME].value
        return self.csrf[who]


def isbn13(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


# --- counting queries in-process ----------------------------------------------------------------


def count_queries(data: Data, page: Page, url: str, form: dict | None) -> tuple[int, list[dict]]:
    """(status, queries) of the second of two requests to the page, in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = data.clients[page.who]
    status = 0
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            if form is None:
                status = client.get(url).status_code
            else:
                status = client.post(url, {**form, "step": "confirm"}).status_code
    return status, captured.captured_queries


def explain(queries: list[dict], lines: int = 30) -> str:
    """The page's slowest SELECT by the database's own measure: each SELECT is run again under
    EXPLAIN (ANALYZE, BUFFERS) and the one with the longest execution time is shown with its plan.
    (Timing the queries in-process would pick whichever one the machine's load happened to slow.)"""
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for sql in dict.fromkeys(q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
            found = re.search(r"Execution Time: ([\d.]+) ms", plan[-1])
            plans.append((float(found.group(1)) if found else 0.0, sql, plan))
    if not plans:
        return "    (no SELECT)"
    took, sql, plan = max(plans, key=lambda p: p[0])
    shown = plan[:lines] + (["…"] if len(plan) > lines else [])
    sql = sql if len(sql) < 600 else sql[:600] + " …"
    return f"    slowest of {len(plans)} SELECTs ({took:.1f} ms): {sql}\n" + "\n".join(
        "      " + line for line in shown
    )


# --- gunicorn and wrk -------------------------------------------------------------------------


def server_env(workdir: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        # The benchmark sends no e-mail through gunicorn; production refuses the console otherwise.
        "ALLOW_CONSOLE_EMAIL": "true",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "GUNICORN_WORKERS": "2",
    }


def start_gunicorn(port: int, workdir: Path) -> subprocess.Popen:
    env = server_env(workdir)
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", "gunicorn.conf.py"]
    command += ["--workers", "2", "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=open(workdir / "gunicorn.log", "wb"), stderr=subprocess.STDOUT
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                sys.exit(f"gunicorn did not start: see {workdir / 'gunicorn.log'}")
            time.sleep(0.1)
    server.terminate()
    sys.exit("gunicorn did not answer within 20 s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, cookie: str, body: bytes | None = None) -> int:
    """The status of one request (no redirect followed): a page must answer 200, or wrk would
    measure a redirect to the login or an error page."""
    headers = {"Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        return urllib.request.build_opener(NoRedirect).open(request, timeout=60).status
    except urllib.error.HTTPError as exc:
        return exc.code


def lua_script(workdir: Path, name: str, body: bytes) -> Path:
    """A wrk script that POSTs the form."""
    path = workdir / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lua"
    text = body.decode().replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "{text}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n',
        encoding="utf-8",
    )
    return path


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url: str, cookie: str, duration: int, script: Path | None = None) -> tuple[float, float, float, str]:
    """req/s, p50 and p99 (ms) of one wrk run, and what went wrong (non-2xx, socket errors)."""
    command = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency", "--timeout", "30s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    problems = []
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        problems.append(f"{found.group(1)} non-2xx")
    if found := re.search(r"Socket errors: (.*)", out):
        problems.append(f"socket errors {found.group(1).strip()}")
    return rps, p50, p99, ", ".join(problems)


# --- the run ----------------------------------------------------------------------------------


def cookie_for(data: Data, who: str | None, with_csrf: str = "") -> str:
    from django.conf import settings

    parts = []
    if data.sessions[who]:
        parts.append(f"{settings.SESSION_COOKIE_NAME}={data.sessions[who]}")
    if with_csrf:
        parts.append(f"{settings.CSRF_COOKIE_NAME}={with_csrf}")
    return "; ".join(parts)


def prepare(data: Data, page: Page, base: str) -> tuple[Result, str, bytes | None]:
    """The page's URL, its query count and (for a POST) its body; raises when it does not answer 200."""
    path = page.target(data) if callable(page.target) else page.target
    result = Result(page, path)
    form = page.form(data) if page.form else None
    status, queries = count_queries(data, page, path, form)
    result.queries = len(queries)
    result.plan = explain(queries) if data.explain and queries else ""
    body = None
    cookie = cookie_for(data, page.who)
    if form is not None:
        token = data.csrf_token(page.who, path)
        body = urllib.parse.urlencode({**form, "step": "confirm", "csrfmiddlewaretoken": token}).encode()
        cookie = cookie_for(data, page.who, token)
    if status == 200:
        status = fetch(base + path, cookie, body)
    if status != 200:
        raise RuntimeError(f"{page.name}: {path} answered {status}, not 200")
    return result, cookie, body


def measure(result: Result, base: str, cookie: str, body, args, workdir: Path) -> None:
    script = lua_script(workdir, result.page.name, body) if body is not None else None
    for _ in range(args.runs):
        rps, p50, p99, errors = wrk(base + result.url, cookie, args.duration, script)
        result.rps.append(rps)
        result.p50.append(p50)
        result.p99.append(p99)
        result.errors = errors or result.errors
    result.load = os.getloadavg()[0]


def submissions(data: Data, base: str, count: int) -> list[float]:
    """Seconds per submission: `count` sequential POSTs (loans and copies in turn, every rule)
    through gunicorn by the submission benchmark's patrons, each with its own session and token."""
    import http.client

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = list(get_user_model().objects.filter(username__startswith=SUBMITTER_PREFIX).order_by("username"))
    if not users:
        raise LookupError("no submission patrons (benchsub01 …): generate the data with bench/generate.py")
    people = []
    for user in users:
        client = Client()
        client.force_login(user, backend=BACKEND)
        client.get("/my/requests/new/loan/")
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        token = client.cookies[settings.CSRF_COOKIE_NAME].value
        people.append(
            (user.username, f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}", token)
        )
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    times = []
    serial = int(time.time()) % 10_000 * 1000
    loans = dict.fromkeys((p[0] for p in people), 0)
    for i in range(count):
        username, cookie, token = people[i % len(people)]
        kind = "loan" if i % 2 == 0 and loans[username] < MAX_LOANS_EACH else "copy"
        loans[username] += kind == "loan"
        form = (data.loan_form if kind == "loan" else data.copy_form)(username, serial + i)
        body = urllib.parse.urlencode({**form, "step": "submit", "csrfmiddlewaretoken": token})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        started = time.perf_counter()
        connection.request("POST", f"/my/requests/new/{kind}/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        if response.status != 302:
            raise RuntimeError(f"submission {i + 1} ({kind}, {username}) answered {response.status}, not 302")
    connection.close()
    return times


def undo_submissions() -> int:
    """Cancel what the submission benchmark submitted and remove the e-mails it caused."""
    from django.contrib.auth import get_user_model

    from ill import services
    from ill.models import Request
    from notifications.models import OutboxMessage

    staff = get_user_model().objects.get(username=STAFF)
    mine = Request.objects.filter(patron__user__username__startswith=SUBMITTER_PREFIX)
    cancelled = 0
    for request in mine.filter(status=Request.Status.SUBMITTED):
        services.cancel(request, actor=staff, reason="benchmark")
        cancelled += 1
    OutboxMessage.objects.filter(request__in=mine).delete()
    return cancelled


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_table(results: list[Result], bare: float, markdown: bool) -> None:
    rows = []
    for r in results:
        rps = statistics.median(r.rps)
        rows.append(
            (
                r.page.name,
                f"{rps:,.1f}" if rps < 100 else f"{rps:,.0f}",
                f"{statistics.median(r.p50):,.1f} ms",
                f"{statistics.median(r.p99):,.1f} ms",
                f"{rps / bare:.3f}" if bare else "—",
                "—" if r.queries is None else str(r.queries),
                r.errors,
            )
        )
    header = ("page", "req/s", "p50", "p99", "× bare", "queries", "")
    if markdown:
        print("| " + " | ".join(header[:-1]) + " |")
        print("|" + "---|" * (len(header) - 1))
        for row in rows:
            print("| " + " | ".join(row[:-1]) + (f" ({row[-1]})" if row[-1] else "") + " |")
        return
    print(f"{header[0]:40} {header[1]:>9} {header[2]:>11} {header[3]:>11} {header[4]:>7} {header[5]:>7}")
    for row in rows:
        print(f"{row[0]:40} {row[1]:>9} {row[2]:>11} {row[3]:>11} {row[4]:>7} {row[5]:>7}  {row[6]}")


def code_version() -> str:
    """The commit measured, and whether the working tree differs from it (others may be editing)."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return described.stdout.strip()


def cache_backend() -> str:
    from django.conf import settings

    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def setup_django(workdir: Path) -> None:
    """Django in this process as gunicorn runs it, with the static files collected for both."""
    os.environ.update(
        {k: v for k, v in server_env(workdir).items() if k.startswith("DJANGO_") or k == "ALLOW_CONSOLE_EMAIL"}
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="wrk runs per page; the median is shown")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--only", default="", help="only the pages whose name contains this (the bare view always)")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument("--explain", action="store_true", help="print each page's slowest query and its plan")
    parser.add_argument(
        "--submissions", type=int, default=100, help="sequential submissions to time (0: none, at most 999)"
    )
    parser.add_argument("--port", type=int, default=0, help="for gunicorn (default: a free one)")
    args = parser.parse_args()
    if not 0 <= args.submissions < 1000:
        parser.error("--submissions: from 0 to 999")
    return args


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # so that gunicorn is stopped too
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        if not os.environ.get(name):
            sys.exit(f"Set {name} (see the docstring: python bench/pages.py --help)")
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must be a PostgreSQL database generated by bench/generate.py")
    if not os.environ.get("CACHE_URL"):
        print("Note: CACHE_URL is unset, so each worker caches in its own memory (production sets a shared cache)")
    workdir = Path(tempfile.mkdtemp(prefix="ill-bench-"))
    setup_django(workdir)
    from ill.models import Request

    total = Request.objects.count()
    if not total:
        sys.exit("No requests in this database: run bench/generate.py first")
    data = Data()
    data.explain = args.explain
    pages = [p for p in PAGES if args.only.lower() in p.name.lower()]
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, workdir)
    try:
        print(
            f"{total:,} requests; code {code_version()}; gunicorn.conf.py with 2 workers, production settings "
            f"(DEBUG off, cache {cache_backend()}); "
            f"wrk -t2 -c16 -d{args.duration}s, median of {args.runs} run(s); load average {os.getloadavg()[0]:.1f}"
        )
        results = []
        first_bare, _cookie, _body = prepare(data, BARE, base)
        measure(first_bare, base, "", None, args, workdir)
        for page in pages:
            try:
                result, cookie, body = prepare(data, page, base)
            except (LookupError, RuntimeError) as exc:
                print(f"  skipped: {exc}")
                continue
            measure(result, base, cookie, body, args, workdir)
            results.append(result)
            print(f"  {page.name:40} {statistics.median(result.rps):9.1f} req/s  (load {result.load:.1f})", flush=True)
        last_bare, _cookie, _body = prepare(data, BARE, base)
        measure(last_bare, base, "", None, args, workdir)
        bare = (statistics.median(first_bare.rps) + statistics.median(last_bare.rps)) / 2
        print(
            f"\nbare view: {statistics.median(first_bare.rps):,.0f} req/s first, "
            f"{statistics.median(last_bare.rps):,.0f} last; × bare is against their mean, {bare:,.0f} req/s\n"
        )
        first_bare.page = Page("bare view (first)", None, BARE.target)
        last_bare.page = Page("bare view (last)", None, BARE.target)
        print_table([first_bare, *results, last_bare], bare, args.markdown)
        if args.explain:
            for result in results:
                print(f"\n{result.page.name} ({result.url})\n{result.plan}")
        if args.submissions:
            try:
                times = submissions(data, base, args.submissions)
            finally:
                undone = undo_submissions()
            print(
                f"\nsubmissions with every rule ({len(times)} sequential, loans and copies, public expense): "
                f"median {statistics.median(times) * 1000:.0f} ms, p99 {percentile(times, 0.99) * 1000:.0f} ms "
                f"(cancelled afterwards: {undone})"
            )
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores shared with whatever else runs)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
