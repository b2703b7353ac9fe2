"""Build the national-volume data set in PostgreSQL: 1,000,000 requests, 50,000 patrons, 300 lenders.

Run from the project root, against an empty (or a generated, with --reset) PostgreSQL database:

    DATABASE_URL=postgres://ill:ill@127.0.0.1:5439/ill_bench .venv/bin/python bench/generate.py
    DATABASE_URL=postgres://ill:ill@127.0.0.1:5439/ill_gen_test .venv/bin/python bench/generate.py \\
        --requests 100000 --patrons 5000 --lenders 100 --reset

It runs `manage.py migrate` and `manage.py load_demo --no-samples`, then writes everything else with
set-based SQL (INSERT … SELECT over generate_series, through Django's connection): lenders with fee
schedules, laboratories, patrons with their logins (the schema gives every patron one), budget codes
and student support budgets for each fiscal year, then ten years of requests with their candidate
lenders, shipments, charges and charge lines, budget ledger, support-budget uses, payments,
extensions, history and e-mails (rendered by the app's templates, see `bench/gen_mail.py`).

Each request's life is planned from its submission time (see `bench/gen_sql.py`) and cut at the
moment of generation, so old requests are finished (closed, handed over, rejected, cancelled) and
only the last weeks carry open work; every CHECK constraint and foreign key of the schema holds.
The same seed gives the same data. It refuses to run on a database that already has requests;
`--reset` drops the whole `public` schema first. It finishes with VACUUM ANALYZE and prints the
time of each step, the row counts and the open work per status.

Known logins afterwards: the demo's (`staff` / `ill-staff-2026`, …), the dashboard patron
`bench200` / `ill-bench-2026` (exactly 200 requests) and the submission benchmark's faculty
patrons `benchsub01` … `benchsub16` / `ill-bench-2026` (no history, an unlimited budget code).
"""

import argparse
import datetime
import io
import os
import sys
import time
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BENCH_PASSWORD = "ill-bench-2026"
DASHBOARD_USER = "bench200"
DASHBOARD_REQUESTS = 200
SUBMITTERS = 16

# Tables written in bulk: their foreign keys and secondary indexes are dropped while they load and
# rebuilt (and validated) afterwards, which is several times faster than maintaining them per row.
BULK_TABLES = [
    "ill_request",
    "ill_lendercandidate",
    "ill_requestevent",
    "ill_extensionrequest",
    "fees_shipment",
    "fees_charge",
    "fees_chargeline",
    "fees_budgetledgerentry",
    "fees_supportuse",
    "fees_payment",
    "notifications_outboxmessage",
]
COUNTED_TABLES = [
    "auth_user",
    "patrons_patron",
    "patrons_laboratory",
    "patrons_patronevent",
    "ill_lendinginstitution",
    "fees_feeschedule",
    "fees_budgetcode",
    "fees_budgetcode_members",
    "fees_supportbudget",
    *BULK_TABLES,
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--patrons", type=int, default=50_000)
    parser.add_argument("--lenders", type=int, default=300, help="in all, the demo's five included")
    parser.add_argument("--years", type=float, default=10.0, help="how far back the history goes")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reset", action="store_true", help="drop the public schema first (all data!)")
    parser.add_argument("--keep-staging", action="store_true", help="keep the bench_* planning tables")
    parser.add_argument(
        "--if-missing", action="store_true", help="do nothing (and succeed) when the database already has requests"
    )
    args = parser.parse_args()
    if args.requests < 1000 or args.patrons < 100 or args.lenders < 10:
        parser.error("at least 1000 requests, 100 patrons and 10 lenders")
    return args


class Timer:
    """Prints how long each step took, and the total at the end."""

    def __init__(self):
        self.started = time.monotonic()
        self.steps = []

    @contextmanager
    def step(self, name: str):
        print(f"  {name} …", end="", flush=True)
        started = time.monotonic()
        yield
        seconds = time.monotonic() - started
        self.steps.append((name, seconds))
        print(f" {seconds:7.1f} s", flush=True)

    def total(self) -> float:
        return time.monotonic() - self.started


class Generator:
    def __init__(self, args):
        from django.db import connection

        self.args = args
        self.connection = connection
        self.timer = Timer()
        self.k = {}  # the numbers formatted into the SQL

    # --- plumbing -------------------------------------------------------------------------

    def sql(self, statement: str, params: dict | None = None, **extra):
        """Run one or more statements; `{name}` is filled from self.k and `extra`, `%(name)s` from
        `params` (the vocabulary by default)."""
        if "%(" not in statement:
            params = None
        elif params is None:
            params = self.words
        with self.connection.cursor() as cursor:
            cursor.execute(statement.format(**self.k, **extra), params)
            return cursor.rowcount

    def value(self, query: str, params=None):
        with self.connection.cursor() as cursor:
            cursor.execute(query, params)
            row = cursor.fetchone()
            return row[0] if row else None

    def rows(self, query: str, params=None) -> list:
        with self.connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    def max_id(self, table: str) -> int:
        return self.value(f"SELECT coalesce(max(id), 0) FROM {table}")

    @contextmanager
    def bulk_load(self, table: str):
        """Drop the table's foreign keys and secondary (non-unique) indexes while it loads; put them
        back afterwards. Re-adding a foreign key validates every row in one pass."""
        foreign_keys = self.rows(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f'",
            [table],
        )
        indexes = self.rows(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = %s "
            "AND i.indexdef NOT LIKE 'CREATE UNIQUE%%'",
            [table],
        )
        with self.connection.cursor() as cursor:
            for name, _definition in foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        try:
            yield
        finally:
            with self.connection.cursor() as cursor:
                for _name, definition in indexes:
                    cursor.execute(definition)
                for name, definition in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    # --- the run ---------------------------------------------------------------------------

    def existing_requests(self) -> int:
        """How many requests the database has (0 when it has no schema yet)."""
        if self.value("SELECT to_regclass('ill_request')") is None:
            return 0
        return self.value("SELECT count(*) FROM ill_request")

    def run(self):
        a = self.args
        if a.if_missing and not a.reset and (found := self.existing_requests()):
            print(f"The database already has {found:,} requests: nothing to generate.")
            return
        print(f"Generating {a.requests:,} requests, {a.patrons:,} patrons, {a.lenders} lenders, {a.years:g} years")
        with self.timer.step("schema (migrate, load_demo --no-samples)"):
            self.prepare()
        with self.timer.step("lenders and fee schedules"):
            self.lenders()
        with self.timer.step("laboratories, patrons and their logins"):
            self.patrons()
        with self.timer.step("budget codes and support budgets"):
            self.sql(self._sql("BUDGETS"))
        with self.timer.step("books and articles asked for"):
            self.sql(self._sql("CATALOGUE"))
        with self.timer.step("plan: requests, items, candidate lenders, arrivals"):
            self.plan()
        with self.timer.step("plan: shipments and charges, after arrival, state now"):
            self.plan_after()
        with self.timer.step("requests"):
            with self.bulk_load("ill_request"):
                self.sql(self._sql("REQUESTS"))
        with self.timer.step("candidate lenders"):
            with self.bulk_load("ill_lendercandidate"):
                self.sql(self._sql("CANDIDATE_ROWS"))
        with self.timer.step("shipments, charges and charge lines"):
            self.charges()
        with self.timer.step("budget ledger, support uses, payments"):
            self.money()
        with self.timer.step("extensions"):
            with self.bulk_load("ill_extensionrequest"):
                self.sql(self._sql("EXTENSIONS"))
        with self.timer.step("history (request events)"):
            self.events()
        with self.timer.step("e-mails (outbox)"):
            self.outbox()
        with self.timer.step("counters, budget limits, sequences"):
            self.finish()
        with self.timer.step("checks"):
            problems = self.checks()
        if not a.keep_staging:
            self.sql(self._sql("DROP_STAGING"))
        with self.timer.step("VACUUM ANALYZE"):
            self.vacuum()
        self.report(problems)

    def _sql(self, name: str) -> str:
        import gen_sql

        return getattr(gen_sql, name)

    def prepare(self):
        from django.core.management import call_command

        if self.args.reset:
            self.sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        call_command("migrate", verbosity=0, interactive=False)
        if self.value("SELECT count(*) FROM ill_request"):
            sys.exit("This database already has requests: generate into an empty one, or pass --reset.")
        call_command("load_demo", "--no-samples", verbosity=0, stdout=io.StringIO())
        self.sql(self._sql("DROP_STAGING"))
        self.sql("SET work_mem = '256MB'; SET maintenance_work_mem = '1GB'; SET max_parallel_workers_per_gather = 0;")
        self.constants()
        self.sql(self._sql("FUNCTIONS"))

    def constants(self):
        """Ids, times and sizes the SQL needs, in self.k."""
        import gen_words
        from django.utils import timezone

        from fees.models import current_fiscal_year, fiscal_year_of
        from patrons.models import Branch, StaffMember

        a = self.args
        now = timezone.now().timestamp()
        t0 = now - a.years * 365.25 * 86400
        branches = {b.code: b.pk for b in Branch.objects.all()}
        staff = {s.branch_id: s.user_id for s in StaffMember.objects.all()}
        fy_now = current_fiscal_year()
        fy0 = fiscal_year_of(timezone.localtime(datetime.datetime.fromtimestamp(t0, tz=datetime.UTC)).date())
        n_labs = max(8, a.patrons // 100)
        self.k.update(
            seed=a.seed,
            N=a.requests,
            P=a.patrons,
            NL=n_labs,
            G=max(2, n_labs // 5),
            NB=max(1000, a.requests // 5),
            NA=max(1000, a.requests * 3 // 10),
            T=now,
            t0=t0,
            span=now - 600 - t0,
            stride=a.requests // DASHBOARD_REQUESTS,
            off=(a.requests // DASHBOARD_REQUESTS) // 2,
            dash_n=DASHBOARD_REQUESTS,
            fy0=fy0,
            fy_now=fy_now,
            nfy=fy_now - fy0 + 1,
            central=branches["central"],
            medical=branches["medical"],
            staff_central=staff[branches["central"]],
            staff_medical=staff[branches["medical"]],
            admin=self.value("SELECT id FROM auth_user WHERE username = 'admin'"),
            ntopics=len(gen_words.TOPICS),
            njournals=len(gen_words.JOURNALS),
            njp=sum(1 for j in gen_words.JOURNALS if not j.isascii()),
            today=f"date '{timezone.localdate().isoformat()}'",
        )

    @cached_property
    def words(self) -> dict:
        """The vocabulary as SQL array parameters, and the app's own notes as format() templates."""
        import gen_mail
        import gen_words
        from django.utils import translation

        from ill.models import Request

        w = gen_words
        with translation.override("ja"):
            notes = self._notes()
        reasons = [r for r in Request.RejectReason.values if r != "not_needed"]
        return {
            "s_kanji": [s[0] for s in w.SURNAMES],
            "s_kana": [s[1] for s in w.SURNAMES],
            "s_romaji": [s[2] for s in w.SURNAMES],
            "g_kanji": [g[0] for g in w.GIVEN_NAMES],
            "g_kana": [g[1] for g in w.GIVEN_NAMES],
            "g_romaji": [g[2] for g in w.GIVEN_NAMES],
            "f_full": [f[0] for f in w.FOREIGN_NAMES],
            "f_kana": [f[1] for f in w.FOREIGN_NAMES],
            "f_given": [f[2] for f in w.FOREIGN_NAMES],
            "f_family": [f[3] for f in w.FOREIGN_NAMES],
            "western": w.WESTERN_AUTHORS,
            "topics_ja": [t[0] for t in w.TOPICS],
            "topics_en": [t[1] for t in w.TOPICS],
            "nouns": w.JP_NOUNS,
            "subtitles": w.JP_SUBTITLES,
            "patterns": w.EN_PATTERNS,
            "aspects_ja": [x[0] for x in w.ASPECTS],
            "aspects_en": [x[1] for x in w.ASPECTS],
            "publishers_ja": w.PUBLISHERS_JA,
            "publishers_en": w.PUBLISHERS_EN,
            "journals": w.JOURNALS,
            "issns": [issn(i) for i in range(len(w.JOURNALS))],
            "dept_code": [d[0] for d in w.DEPARTMENTS],
            "dept_ja": [d[1] for d in w.DEPARTMENTS],
            "dept_en": [d[2] for d in w.DEPARTMENTS],
            "block_reasons": w.BLOCK_REASONS,
            "reasons": w.EXTENSION_REASONS,
            "unfilled_answers": w.UNFILLED_ANSWERS,
            "notes": w.REQUEST_NOTES,
            # held here and incomplete citations are the usual reasons; the rest are rarer
            "reject_reasons": ["held_locally"] * 6
            + ["incomplete"] * 4
            + ["electronic"] * 2
            + ["duplicate"] * 2
            + reasons,
            "nn_note": gen_mail.not_needed_note(datetime.date(2099, 12, 28)).replace("2099-12-28", "%1$s"),
            **notes,
        }

    def _notes(self) -> dict:
        """The notes the services write on events, in Japanese (the desk's language), as format()
        templates: `%1$s` (and `%2$s`) stand for the amounts, names and receipt numbers."""
        from django.utils.translation import gettext as _

        from ill.services import ordering

        def template(message, **slots):
            text = str(message).replace("%", "%%")
            for i, name in enumerate(slots, start=1):
                text = text.replace(f"%%({name})s", f"%{i}$s")
            return text

        return {
            "charge_note": template(_("Charge %(amount)s."), amount=1),
            "accepted_charge": template(_("Charge of %(amount)s accepted."), amount=1),
            "paid_note": template(_("Paid %(amount)s in cash, receipt %(receipt)s."), amount=1, receipt=2),
            "accepted": template(ordering.PATRON_ACCEPTED, estimate=1),
            "auto_note": template(_("Unfilled by %(lender)s; asked the next candidate."), lender=1),
            "fax_express": template(
                _("%(lender)s cannot send by FAX or electronically: ordered by express mail instead."), lender=1
            ),
            "fax_mail": template(_("%(lender)s sends by ordinary mail only."), lender=1),
            "no_schedule": _("Amount entered by staff (no fee schedule)."),
        }

    # --- steps ------------------------------------------------------------------------------

    def lenders(self):
        import gen_words

        existing = self.value("SELECT count(*) FROM ill_lendinginstitution")
        rows = gen_words.lenders(self.args.lenders - existing, self.args.seed)
        columns = {
            "code": [r["code"] for r in rows],
            "name": [r["name"] for r in rows],
            "name_en": [r["name_en"] for r in rows],
            "kind": [r["kind"] for r in rows],
            "offset": [r["is_offset_participant"] for r in rows],
            "express": [r["supports_express"] for r in rows],
            "fax": [r["supports_fax"] for r in rows],
            "payment": [r["payment_methods"] for r in rows],
            "period": [r["loan_period_days"] for r in rows],
            "country": [r["country"] for r in rows],
            "active": [r["active"] for r in rows],
        }
        self.sql(self._sql("LENDERS"), columns)
        fields = {
            "mono": "mono_price",
            "colour": "colour_price",
            "handling": "handling_fee_per_item",
            "postage": "postage_per_shipment",
            "express": "express_surcharge",
            "fax_mode": "fax_fee_mode",
            "fax_pp": "fax_fee_per_page",
            "fax_fixed": "fax_fee_fixed",
            "bank": "bank_transfer_fee",
            "oflat": "overseas_flat_fee_per_item",
            "ofax": "overseas_fax_surcharge",
            "loan_mode": "loan_fee_mode",
            "loan_fee": "loan_fee",
            "loan_express": "loan_express_surcharge",
        }
        schedules = {key: [r["schedule"][field] for r in rows] for key, field in fields.items()}
        self.sql(self._sql("FEE_SCHEDULES"), {"code": columns["code"], **schedules})
        a3 = [r for r in rows if r["a3"]]
        self.sql(
            self._sql("PAPER_PRICES"),
            {"code": [r["code"] for r in a3], "mono": [r["a3"][0] for r in a3], "colour": [r["a3"][1] for r in a3]},
        )
        self.sql(self._sql("BENCH_LENDER"))

    def patrons(self):
        self.k["lab0"] = self.max_id("patrons_laboratory")
        self.sql(self._sql("LABS"))
        specials = self.special_patrons()
        self.k["user0"] = self.max_id("auth_user")
        self.k["patron0"] = self.max_id("patrons_patron")
        self.sql(self._sql("BENCH_PATRON"))
        self.sql(
            self._sql("SPECIAL_PATRONS"),
            {"i": [s[0] for s in specials], "id": [s[1] for s in specials], "lab_idx": [s[2] for s in specials]},
        )
        self.sql(self._sql("USERS"))
        self.sql(self._sql("PATRONS"))
        self.k["W"] = self.value("SELECT count(*) FROM bench_ticket")
        self.k["bc0"] = self.max_id("fees_budgetcode")
        self.k["any_faculty"] = self.value("SELECT min(id) FROM bench_patron WHERE category = 'faculty'")

    def special_patrons(self) -> list[tuple[int, int, int]]:
        """The dashboard patron (i = 0) and the submission benchmark's patrons (i < 0), with a
        password: (i, patron id, laboratory index)."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password

        from patrons.models import Laboratory, Patron

        User = get_user_model()
        password = make_password(BENCH_PASSWORD)
        labs = {i: Laboratory.objects.get(pk=self.k["lab0"] + i + 1) for i in (0, 1)}
        people = [(0, DASHBOARD_USER, "D2400200", "高橋 由紀", "タカハシ ユキ", "doctoral", 1)]
        people += [
            (-n, f"benchsub{n:02d}", f"F00{900 + n:05d}", f"ベンチ 教員{n}", f"ベンチ キョウイン{n}", "faculty", 0)
            for n in range(1, SUBMITTERS + 1)
        ]
        specials = []
        for i, username, number, name, kana, category, lab in people:
            user = User.objects.create(username=username, email=f"{username}@example.ac.jp", password=password)
            patron = Patron.objects.create(
                user=user,
                patron_number=number,
                full_name=name,
                full_name_kana=kana,
                category=category,
                department=labs[lab].department,
                laboratory=labs[lab],
                home_branch_id=self.k["central"],
            )
            specials.append((i, patron.pk, lab))
        return specials

    def plan(self):
        self.k["r0"] = self.max_id("ill_request")
        for statement in ("PLAN_BASE", "PLAN", "PLAN_ITEMS", "CANDIDATES", "TIMELINE"):
            self.sql(self._sql(statement))

    def plan_after(self):
        self.k["ch0"] = self.max_id("fees_charge")
        self.k["sh0"] = self.max_id("fees_shipment")
        self.k["ext0"] = self.max_id("ill_extensionrequest")
        self.sql(self._sql("CHARGES"))
        self.sql(self._sql("AFTER_ARRIVAL"))
        self.sql(self._sql("FINAL"))

    def charges(self):
        for table in ("fees_shipment", "fees_charge", "fees_chargeline"):
            with self.bulk_load(table):
                statement = {"fees_shipment": "SHIPMENTS", "fees_charge": "CHARGE_ROWS"}.get(table, "CHARGE_LINES")
                self.sql(self._sql(statement))

    def money(self):
        for table, statement in (
            ("fees_budgetledgerentry", "LEDGER"),
            ("fees_supportuse", "SUPPORT_USES"),
            ("fees_payment", "PAYMENTS"),
        ):
            with self.bulk_load(table):
                self.sql(self._sql(statement))

    def events(self, chunk: int = 1_000_000):
        self.k["ev0"] = self.max_id("ill_requestevent")
        self.sql(self._sql("EVENTS"))
        last = self.value("SELECT coalesce(max(event_id), 0) FROM bench_ev")
        with self.bulk_load("ill_requestevent"):
            for lo in range(self.k["ev0"], last, chunk):
                self.sql(self._sql("EVENT_ROWS"), lo=lo, hi=lo + chunk)

    def outbox(self, chunks: int = 12):
        import gen_mail

        from patrons.models import Branch

        self.sql(self._sql("MESSAGES"))
        variants = [row[0] for row in self.rows("SELECT DISTINCT variant FROM bench_msg ORDER BY 1")]
        rendered = gen_mail.render_variants(variants, Branch.objects.in_bulk())
        self.sql(
            "CREATE UNLOGGED TABLE bench_mail (variant text PRIMARY KEY, subject text, body_text text, body_html text);"
            "INSERT INTO bench_mail SELECT * FROM unnest(%(v)s::text[], %(s)s::text[], %(t)s::text[], %(h)s::text[])",
            {
                "v": [r[0] for r in rendered],
                "s": [r[1] for r in rendered],
                "t": [r[2] for r in rendered],
                "h": [r[3] for r in rendered],
            },
        )
        first, last = self.rows("SELECT min(least(d0, d1)), max(greatest(d0, d1)) FROM bench_msg")[0]
        dates = gen_mail.date_rows(first, last) if first else []
        self.sql(
            "CREATE UNLOGGED TABLE bench_datefmt (d date, lang text, f1 text, f2 text, f3 text, PRIMARY KEY (d, lang));"
            "INSERT INTO bench_datefmt SELECT * FROM unnest(%(d)s::date[], %(l)s::text[], %(a)s::text[], "
            "%(b)s::text[], %(c)s::text[])",
            {key: [row[i] for row in dates] for i, key in enumerate("dlabc")},
        )
        low, high = self.rows("SELECT min(at), max(at) FROM bench_msg")[0]
        step = (high - low) / chunks + 1
        with self.bulk_load("notifications_outboxmessage"):
            for n in range(chunks):
                self.sql(self._sql("OUTBOX"), lo=low - 1 + n * step, hi=low - 1 + (n + 1) * step)
        print(f" ({len(variants)} variants)", end="")

    def finish(self):
        self.sql(self._sql("FINISH"))
        for table in COUNTED_TABLES:
            self.sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )

    def checks(self) -> list[str]:
        import gen_sql

        problems = []
        for label, query in gen_sql.CHECKS.items():
            found = self.value(query)
            if found:
                problems.append(f"{label}: {found}")
        return problems

    def vacuum(self):
        with self.connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    def report(self, problems: list[str]):
        print(f"\nDone in {self.timer.total() / 60:.1f} min.")
        print("\nRows:")
        for table in COUNTED_TABLES:
            print(f"  {table:32} {self.value(f'SELECT count(*) FROM {table}'):>12,}")
        print("\nOpen work:")
        for status, count in self.rows(self._sql("OPEN_COUNTS").format(**self.k)):
            print(f"  {status:32} {count:>12,}")
        print("\nChecks:", "all passed" if not problems else "")
        for problem in problems:
            print(f"  ! {problem}")
        dashboard = self.value(
            "SELECT count(*) FROM ill_request r JOIN patrons_patron p ON p.id = r.patron_id "
            "JOIN auth_user u ON u.id = p.user_id WHERE u.username = %s",
            [DASHBOARD_USER],
        )
        print(f"\nLogins: staff / ill-staff-2026 (desk), {DASHBOARD_USER} / {BENCH_PASSWORD} ({dashboard} requests),")
        print(f"        benchsub01 … benchsub{SUBMITTERS:02d} / {BENCH_PASSWORD} (submission benchmark)")


def issn(i: int) -> str:
    """A valid ISSN (check digit included) for the i-th journal of the vocabulary."""
    digits = f"{1340 + i * 37:04d}{(5011 + i * 131) % 10000:04d}"[:7]
    total = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return f"{digits[:4]}-{digits[4:]}{'X' if check == 10 else check}"


def main():
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. postgres://ill:ill@127.0.0.1:5439/ill_gen_test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    Generator(args).run()


if __name__ == "__main__":
    main()
