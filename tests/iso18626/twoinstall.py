"""Two installations of the desk side by side, for tests/iso18626/test_two_installations.py.

Each installation is a real server process (`manage.py runserver --noreload` with the `make run`
settings, eager Celery) on a free port of the loopback, with its own database — PostgreSQL
`ill_h6_a` / `ill_h6_b` (created fresh next to the test database) when the tests run on PostgreSQL,
SQLite files in the test's temporary directory otherwise — its own SITE_URL, its own ISIL
(ISO18626_OUR_ISIL) and its own e-mail folder (Django's file back-end), so that what it sends the
other by ISO 18626 goes over HTTP exactly as between two libraries.

`Installation.shell(code)` runs Python inside an installation (`manage.py shell -c`) and returns
what the code printed as JSON (`emit(value)`); `Installation.login(username, password)` returns a
`Browser`, a requests session signed in through the login form that reads and submits the desk's
own forms.
"""

import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
SETUP = Path(__file__).with_name("twoinstall_setup.py")
# What the child processes must not inherit from the test run.
DROP = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "EMAIL_URL", "TEST_EMAIL_URL", "SITE_URL")


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_url(base: dict, name: str) -> str:
    return f"postgres://{base['USER']}:{base['PASSWORD']}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}/{name}"


def recreate_postgres(base: dict, name: str, template: str = "") -> None:
    """Drop and create database `name` on the test database's server (the role may CREATEDB), empty or
    as a copy of database `template`."""
    dsn = postgres_url(base, "postgres")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def postgres_comment(base: dict, name: str, value: str | None = None) -> str | None:
    """Database `name`'s comment (None when it does not exist), or set it to `value`."""
    with psycopg.connect(postgres_url(base, "postgres"), autocommit=True) as conn:
        if value is not None:
            conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{value}'")
            return value
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        return row[0] if row else None


def migrations_fingerprint() -> str:
    """A hash of every migration file of the project: a template migrated with other files is not reused."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Installation:
    def __init__(self, name: str, *, isil: str, code: str, tmp: Path, database_url: str):
        self.name, self.isil, self.code = name, isil, code
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tmp / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mail_dir = self.dir / "mail"
        self.mail_dir.mkdir(exist_ok=True)
        self.database_url = database_url
        self.proc = None
        self.log_path = self.dir / "server.log"

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in DROP and not k.startswith("PYTEST")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DJANGO_DEBUG="false",
            DATABASE_URL=self.database_url,
            SITE_URL=self.url,
            ISO18626_OUR_ISIL=self.isil,
            LIBRARY_NAME=f"Library {self.name}",
            EMAIL_URL=f"filemail:///{self.mail_dir}",  # (an absolute path: one more slash)
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            CELERY_TASK_ALWAYS_EAGER="true",
            # A POST waits for the other installation's answer; on a loaded CI machine that can take a while.
            ISO18626_TIMEOUT="60",
            PYTHONUNBUFFERED="1",
        )
        return env

    def manage(self, *args, timeout=300, check=True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"[{self.name}] manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def shell(self, code: str, **params):
        """Run `code` in this installation; `params` are available as PARAMS, `emit(x)` returns x."""
        prelude = (
            "import json\n"
            f"PARAMS = json.loads({json.dumps(json.dumps(params))})\n"
            "def emit(value):\n"
            "    print('@@JSON@@' + json.dumps(value, default=str))\n"
        )
        result = self.manage("shell", "-c", prelude + textwrap.dedent(code))
        for line in result.stdout.splitlines():
            if line.startswith("@@JSON@@"):
                return json.loads(line[len("@@JSON@@") :])
        return None

    def setup(self, **params):
        return self.shell(SETUP.read_text(encoding="utf-8"), **params)

    def start(self):
        self.launch()
        self.wait_ready()

    def launch(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"[{self.name}] the server stopped:\n{self.server_log()}")
            try:
                requests.get(f"{self.url}/accounts/login/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise AssertionError(f"[{self.name}] the server did not answer within {timeout:.0f} s:\n{self.server_log()}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def server_log(self, tail: int = 6000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]
        except OSError:
            return ""

    def mails(self) -> list[str]:
        """Every e-mail this installation has sent (the file back-end's files), oldest first."""
        return [p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.mail_dir.glob("*.log"))]

    def login(self, username: str, password: str) -> "Browser":
        browser = Browser(self)
        page = browser.get("/accounts/login/")
        browser.submit(page, {"username": username, "password": password}, form_id="login-form")
        assert "sessionid" in browser.session.cookies, f"[{self.name}] could not sign in as {username}"
        return browser


# --- reading and submitting the pages' own forms ---------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: their action, id and fields with the values the page gives them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "id": a.get("id", ""), "fields": {}, "options": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["fields"].setdefault(self._select, "")
            self._form["options"][self._select] = []
            self._first = True
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["options"][self._select].append(value)
            if "selected" in a or self._first:
                self._form["fields"][self._select] = value
            self._first = False
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][self._textarea] = ""

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class Page:
    def __init__(self, response: requests.Response):
        self.response = response
        self.url = response.url
        self.text = response.text
        parser = _Forms()
        parser.feed(self.text)
        self.forms = parser.forms

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def form(self, *, action: str | None = None, form_id: str | None = None) -> dict:
        for form in self.forms:
            target = urlsplit(urljoin(self.url, form["action"] or self.url)).path
            if (form_id and form["id"] == form_id) or (action and target.rstrip("/").endswith(action.rstrip("/"))):
                return form
        found = [(f["id"], f["action"]) for f in self.forms]
        raise AssertionError(f"no form {form_id or action} on {self.url}; forms: {found}")

    def has_form(self, *, action: str) -> bool:
        try:
            self.form(action=action)
        except AssertionError:
            return False
        return True

    def messages(self) -> str:
        """The page's text without tags (for assertions on what staff read)."""
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", self.text))


def problems(html: str) -> list[str]:
    """The error messages a page shows (form errors, alerts), as text."""
    found = re.findall(
        r'class="[^"]*(?:invalid-feedback|alert|errorlist|error-summary)[^"]*"[^>]*>(.*?)</(?:div|ul|p)', html, re.S
    )
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip() for text in found][:10] or [html[:2000]]


class Browser:
    def __init__(self, installation: Installation):
        self.installation = installation
        self.session = requests.Session()

    def get(self, path: str, status: int = 200) -> Page:
        response = self.session.get(urljoin(self.installation.url, path), timeout=60)
        assert response.status_code == status, (
            f"[{self.installation.name}] GET {path}: {response.status_code}\n{response.text[:3000]}"
            f"\n{self.installation.server_log()}"
        )
        return Page(response)

    def submit(
        self, page: Page, values: dict, *, action: str | None = None, form_id: str | None = None, status=(200,)
    ) -> Page:
        """Fill `values` into the form and post it as the browser would (following the redirect)."""
        form = page.form(action=action, form_id=form_id)
        data = {**form["fields"], **{k: v for k, v in values.items() if v is not None}}
        data = {k: v for k, v in data.items() if values.get(k, "") is not None}
        target = urljoin(page.url, form["action"] or page.url)
        response = self.session.post(target, data=data, headers={"Referer": page.url}, timeout=120)
        assert response.status_code in status, (
            f"[{self.installation.name}] POST {target}: {response.status_code}: {problems(response.text)}"
            f"\n{self.installation.server_log()}"
        )
        return Page(response)
