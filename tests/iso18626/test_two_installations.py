"""Issue 14, the proof: two installations of the desk (two live servers, two databases) borrow from each
other by ISO 18626, driven through their own desk pages.

Library A orders a loan and a copy from library B; B's lending queue shows them, B supplies the copy
and lends the book; A records the arrivals (its patron is e-mailed), hands them over, takes the book
back and ships it back; B records the return; both end completed with the same charges on each side.
Then B refuses a request (unfilled, not held) and A's request moves on to its next candidate.

The installations run as `make run` does (eager Celery, so each message is POSTed when the desk's
transaction commits), on PostgreSQL (`ill_h6_a`, `ill_h6_b`) when the tests run on PostgreSQL —
under CI=true PostgreSQL is required — and on SQLite files otherwise.
"""

import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import environ
import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import translation

from fees.models import Charge
from ill.models import Request
from iso18626 import lending as flow
from iso18626.models import Message
from lending.models import LendingCharge, LendingRequest
from tests.conftest import IN_CI
from tests.factories import future
from tests.iso18626.twoinstall import (
    Installation,
    migrations_fingerprint,
    postgres_comment,
    postgres_url,
    recreate_postgres,
)

PASSWORD = "two-installations-2026"
A_ISIL, B_ISIL = "JP-1000001", "JP-1000002"
LOAN = {
    "kind": "loan",
    "material_type": "book",
    "title": "Pattern Recognition and Machine Learning",
    "author": "Bishop, Christopher M.",
    "isbn": "9780387310732",
    "publisher": "Springer",
    "pub_year": 2006,
}
COPY = {
    "kind": "copy",
    "material_type": "article",
    "title": "Journal of Examples",
    "journal_title": "Journal of Examples",
    "article_title": "On examples",
    "issn": "1234-5679",
    "volume": "12",
    "issue": "3",
    "pages": "101-110",
    "page_count": 10,
    "copyright_accepted": True,
    "purpose": "research",
    "pub_year": 2019,
}
REFUSED = {"kind": "loan", "material_type": "book", "title": "A Book Library B Does Not Hold", "isbn": "9784000000000"}


def _migrated_databases(tmp_path) -> tuple[str, str]:
    """Two databases with every migration applied. On PostgreSQL both are copies (CREATE DATABASE …
    TEMPLATE: seconds) of the test database when pytest-django has migrated one for the other tests of the
    run, else of one migrated here; on SQLite one file is migrated and copied."""
    template = Installation("template", isil="", code="", tmp=tmp_path, database_url="")
    if connection.vendor == "postgresql":
        base = dict(connection.settings_dict)
        urls = postgres_url(base, "ill_h6_a"), postgres_url(base, "ill_h6_b")
        connections.close_all()  # a template database must have no other session
        if base["NAME"].startswith("test_"):  # pytest-django migrated a test database for this run
            try:
                for name in ("ill_h6_a", "ill_h6_b"):
                    recreate_postgres(base, name, template=base["NAME"])
                return urls
            except psycopg.errors.ObjectInUse:  # another session holds it: use our own template
                pass
        source = "ill_h6_template"  # kept between runs, migrated again when a migration file changes
        if postgres_comment(base, source) != migrations_fingerprint():
            recreate_postgres(base, source)
            template.database_url = postgres_url(base, source)
            template.manage("migrate", "--noinput")
            postgres_comment(base, source, migrations_fingerprint())
        for name in ("ill_h6_a", "ill_h6_b"):
            recreate_postgres(base, name, template=source)
        return urls
    if IN_CI:
        pytest.fail("the two-installation test needs PostgreSQL under CI=true (DATABASE_URL)", pytrace=False)
    path = tmp_path / "template.sqlite3"
    template.database_url = f"sqlite:///{path}"
    template.manage("migrate", "--noinput")
    shutil.copy(path, tmp_path / "a.sqlite3")
    shutil.copy(path, tmp_path / "b.sqlite3")
    return f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}"


def _alias(name: str, url: str) -> str:
    """This test process reads an installation's database with the ORM, as database alias `name`."""
    connections.settings[name] = {**connections["default"].settings_dict, **environ.Env.db_url_config(url)}
    connections.settings[name]["NAME"] = environ.Env.db_url_config(url)["NAME"]
    return name


@pytest.fixture(scope="module")
def libraries(tmp_path_factory, django_db_setup, django_db_blocker):
    tmp = tmp_path_factory.mktemp("two-installations")
    started = time.monotonic()
    with django_db_blocker.unblock():
        url_a, url_b = _migrated_databases(tmp)
    print(f"two installations: databases ready in {time.monotonic() - started:.0f} s")
    a = Installation("A", isil=A_ISIL, code="PEER-A", tmp=tmp, database_url=url_a)
    b = Installation("B", isil=B_ISIL, code="PEER-B", tmp=tmp, database_url=url_b)
    a.alias, b.alias = _alias("library_a", url_a), _alias("library_b", url_b)
    secret = secrets.token_hex(16)
    try:
        with ThreadPoolExecutor(2) as pool:  # the two installations are set up side by side
            lender = pool.submit(
                b.setup,
                role="lender",
                password=PASSWORD,
                secret=secret,
                other={"isil": A_ISIL, "url": a.url, "code": a.code, "name": "Library A"},
                holdings=[
                    ["B-0001", LOAN["title"], "007.13/B", "isbn", LOAN["isbn"]],
                    ["B-0002", COPY["title"], "P/JOE", "issn", COPY["issn"]],
                ],
            )
            borrower = pool.submit(
                a.setup,
                role="borrower",
                password=PASSWORD,
                secret=secret,
                other={"isil": B_ISIL, "url": b.url, "code": b.code, "name": "Library B"},
                requests={"loan": LOAN, "copy": COPY, "refused": REFUSED},
            )
            lender.result()
            setup_a = borrower.result()
        a.launch()
        b.launch()
        a.wait_ready()
        b.wait_ready()
        print(f"two installations: set up and serving after {time.monotonic() - started:.0f} s")
        with django_db_blocker.unblock():
            yield {"a": a, "b": b, "numbers": setup_a["numbers"], "patron_email": setup_a["patron_email"]}
    finally:
        for installation in (a, b):
            installation.stop()
        with django_db_blocker.unblock():
            for alias in ("library_a", "library_b"):
                if alias in connections.settings:
                    connections[alias].close()
                    del connections.settings[alias]


def desk_request(number) -> str:
    return f"/desk/requests/{number}/"


def act(browser, detail: str, action: str, values: dict | None = None):
    """Open the request's page on the desk and submit one of its action forms, as staff would."""
    page = browser.get(detail)
    assert page.has_form(action=f"{detail}{action}/"), (
        f"[{browser.installation.name}] no '{action}' on {detail}: "
        f"{[f['action'] for f in page.forms]}\n{page.messages()[:2000]}"
    )
    return browser.submit(page, values or {}, action=f"{detail}{action}/")


def messages(db) -> list:
    return sorted(Message.objects.using(db).values_list("direction", "message_type", "code", "state"))


def borrowing_state(a, number) -> dict:
    """Library A's request as its database has it (read here, not through A's pages)."""
    r = Request.objects.using(a.alias).select_related("lender").get(number=number)
    charge = Charge.objects.using(a.alias).filter(request=r).first()
    return {
        "status": r.status,
        "lender": r.lender.code if r.lender else None,
        "lender_reference": r.lender_reference,
        "charge": charge.total if charge else None,
        "cash_due": charge.cash_due if charge else 0,
        "return_postage": charge.return_postage if charge else 0,
        "candidates": [
            [c.lender.code, c.state, c.unfilled_reason] for c in r.candidates.using(a.alias).select_related("lender")
        ],
        "notes": list(
            r.events.using(a.alias).filter(action__in=["iso18626", "mark_unfilled"]).values_list("note", flat=True)
        ),
        "messages": messages(a.alias),
    }


def lending_state(b, their_number) -> dict:
    """Library B's lending request for A's request `their_number`."""
    r = LendingRequest.objects.using(b.alias).get(their_reference=their_number)
    charge = LendingCharge.objects.using(b.alias).filter(request=r).first()
    return {
        "number": r.number,
        "status": r.status,
        "kind": r.kind,
        "source": r.source,
        "due_date": r.due_date.isoformat() if r.due_date else None,
        "unfilled_reason": r.unfilled_reason,
        "charge": charge.total if charge is not None else None,
        "patron_reference": r.patron_reference,
        "notes": [note for note in r.events.using(b.alias).values_list("note", flat=True) if note],
        "messages": messages(b.alias),
    }


def no_failed_messages(state):
    bad = [m for m in state["messages"] if m[3] not in ("sent", "processed")]
    assert bad == [], state["messages"]


def test_a_loan_and_a_copy_from_the_other_installation(libraries):
    a, b, numbers = libraries["a"], libraries["b"], libraries["numbers"]
    loan, copy = numbers["loan"], numbers["copy"]
    desk_a = a.login("staff", PASSWORD)
    desk_b = b.login("staff", PASSWORD)

    # A orders both from B on its desk: the order goes by ISO 18626.
    for number in (loan, copy):
        act(desk_a, desk_request(number), "order", {"lender_1": b.code, "shipping_method": "mail"})

    # B's lending queue shows them, received by ISO 18626 under A's numbers; the patron is a pseudonym.
    b_loan, b_copy = lending_state(b, loan), lending_state(b, copy)
    queue = desk_b.get("/desk/lending/").messages()
    assert b_loan["number"] in queue and b_copy["number"] in queue and LOAN["title"] in queue
    assert (b_loan["status"], b_copy["status"]) == ("received", "received")
    assert (b_loan["source"], b_copy["source"], b_copy["kind"]) == ("iso18626", "iso18626", "copy")
    assert b_copy["patron_reference"].startswith("P") and "m2501003" not in b_copy["patron_reference"]
    b_loan_page, b_copy_page = f"/desk/lending/{b_loan['number']}/", f"/desk/lending/{b_copy['number']}/"

    # B supplies the copy and lends the book, on its lending desk.
    act(desk_b, b_copy_page, "will_supply")
    act(desk_b, b_copy_page, "start_copying")
    act(desk_b, b_copy_page, "ship", {"shipping_method": "mail"})
    act(desk_b, b_loan_page, "will_supply")
    act(desk_b, b_loan_page, "ship", {"shipping_method": "mail", "due_date": future(30).isoformat()})
    b_loan, b_copy = lending_state(b, loan), lending_state(b, copy)
    assert (b_loan["status"], b_copy["status"]) == ("shipped", "shipped")
    assert b_loan["due_date"] == future(30).isoformat()

    # A's requests say what B did (staff read it on the request's page); the desk records the arrivals.
    a_loan, a_copy = borrowing_state(a, loan), borrowing_state(a, copy)
    assert any("WillSupply" in n for n in a_copy["notes"]) and any("CopyCompleted" in n for n in a_copy["notes"])
    assert any("Loaned" in n and b_loan["due_date"] in n for n in a_loan["notes"]), a_loan["notes"]
    assert a_loan["lender_reference"] == b_loan["number"]
    assert "Loaned" in desk_a.get(desk_request(loan)).messages()
    act(desk_a, desk_request(copy), "record_arrival", {"pages": "10", "use_restriction": "none"})
    act(
        desk_a, desk_request(loan), "record_arrival", {"lender_due_date": b_loan["due_date"], "use_restriction": "none"}
    )
    mails = a.mails()
    arrived = [m for m in mails if libraries["patron_email"] in m and (loan in m or copy in m)]
    assert len(arrived) >= 4, [m[:400] for m in mails]  # ordered and arrived, for each

    # A's Received reached B: the loan is with them, the copy complete.
    assert (lending_state(b, loan)["status"], lending_state(b, copy)["status"]) == ("on_loan", "completed")

    # At A's counter the patron pays and takes both, later brings the book back; A ships it back to B.
    for number in (copy, loan):
        due = borrowing_state(a, number)["cash_due"]
        if due:
            act(desk_a, desk_request(number), "payment", {"amount": str(due), "receipt_number": f"R-{number[-6:]}"})
        act(desk_a, desk_request(number), "hand_over")
    stamps = borrowing_state(a, loan)["return_postage"]
    act(desk_a, desk_request(loan), "return_by_patron", {"stamps_amount": str(stamps) if stamps else None})
    act(desk_a, desk_request(loan), "send_back")
    with translation.override(settings.LANGUAGE_CODE):  # the language the installation writes its notes in
        assert any(str(flow.SENT_BACK) in n for n in lending_state(b, loan)["notes"])

    # B records the return and completes the loan; A hears of it.
    act(desk_b, b_loan_page, "record_return")
    act(desk_b, b_loan_page, "complete")
    a_loan, a_copy = borrowing_state(a, loan), borrowing_state(a, copy)
    b_loan, b_copy = lending_state(b, loan), lending_state(b, copy)
    assert (a_copy["status"], a_loan["status"]) == ("handed_over", "closed")
    assert (b_copy["status"], b_loan["status"]) == ("completed", "completed")
    assert any("LoanCompleted" in n for n in a_loan["notes"])
    # What B charged with the shipment is what A recorded on arrival (A prices B by B's own fees).
    assert a_copy["charge"] == b_copy["charge"] == 35 * 10 + 140
    assert a_loan["charge"] == b_loan["charge"] is not None
    no_failed_messages(a_loan)
    no_failed_messages(b_loan)


def test_a_refusal_moves_the_request_to_its_next_candidate(libraries):
    a, b = libraries["a"], libraries["b"]
    number = libraries["numbers"]["refused"]
    desk_a = a.login("staff", PASSWORD)
    desk_b = b.login("staff", PASSWORD)
    act(desk_a, desk_request(number), "order", {"lender_1": b.code, "lender_2": "FA004321", "shipping_method": "mail"})
    refused = lending_state(b, number)
    assert refused["status"] == "received"
    act(
        desk_b,
        f"/desk/lending/{refused['number']}/",
        "mark_unfilled",
        {"reason": "not_held", "note": "Not in our catalogue."},
    )

    state = borrowing_state(a, number)
    assert (state["status"], state["lender"]) == ("ordered", "FA004321")
    assert state["candidates"] == [[b.code, "unfilled", "not_held"], ["FA004321", "ordered", ""]]
    assert any("Unfilled" in n and "Not in our catalogue." in n for n in state["notes"]), state["notes"]
    refused = lending_state(b, number)
    assert (refused["status"], refused["unfilled_reason"]) == ("unfilled", "not_held")
    no_failed_messages(state)
    no_failed_messages(refused)
