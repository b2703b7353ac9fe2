"""The lending worklists (DESIGN.md §11): each derived from the lifecycle and the due dates, counted
in one query over the open requests only."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lending import money, services, worklists
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    ours = money.current_schedule()
    ours.loan_fee_mode = "free"
    ours.mono_price = 30
    ours.save()
    return f.LendingInstitutionFactory(code="FA200001")


def receive(library, kind="loan", **fields):
    if kind == "copy":
        values = {
            "title": "A book",
            "article_title": "A chapter",
            "page_count": 5,
            "pages": "1-5",
            "work_total_pages": 300,
        }
    else:
        values = {"title": "A book"}
    values.update(fields)
    return services.receive(borrower=library, kind=kind, source="email", **values)


def members(name, today=None) -> set[str]:
    rows = worklists.open_requests().filter(worklists.worklist_q(name, today))
    return set(rows.values_list("number", flat=True))


def test_each_request_is_in_the_worklists_of_its_stage(library):
    today = timezone.localdate()
    new = receive(library)
    searching = receive(library)
    services.search(searching, actor=None)
    loan_to_ship = receive(library)
    services.will_supply(loan_to_ship, actor=None)
    copying = receive(library, kind="copy")
    services.will_supply(copying, actor=None)
    services.start_copying(copying, actor=None)
    sent_copy = receive(library, kind="copy")
    services.will_supply(sent_copy, actor=None)
    services.start_copying(sent_copy, actor=None)
    services.ship(sent_copy, actor=None, shipping_method="mail")
    out = receive(library)
    services.will_supply(out, actor=None)
    services.ship(out, actor=None, shipping_method="mail", due_date=today + datetime.timedelta(days=20))
    late = receive(library)
    services.will_supply(late, actor=None)
    services.ship(late, actor=None, shipping_method="mail", due_date=today + datetime.timedelta(days=1))
    services.mark_received(late, actor=None)
    services.ask_renewal(late, actor=None)
    back = receive(library)
    services.will_supply(back, actor=None)
    services.ship(back, actor=None, shipping_method="mail", due_date=today + datetime.timedelta(days=5))
    services.record_return(back, actor=None)
    done = receive(library, kind="copy")
    services.mark_unfilled(done, actor=None, reason="not_held")

    assert members("new") == {new.number}
    assert members("pull") == {searching.number, loan_to_ship.number}
    assert members("copy") == {copying.number}
    assert members("ship") == {loan_to_ship.number, copying.number}
    assert members("sent") == {sent_copy.number}
    assert members("out") == {out.number, late.number}
    assert members("renewals") == {late.number}
    assert members("returned") == {back.number}
    assert members("overdue") == set()
    # Overdue is derived from the due date: two days later the loan due tomorrow is late.
    assert members("overdue", today + datetime.timedelta(days=2)) == {late.number}
    counts = worklists.count_worklists(today + datetime.timedelta(days=2))
    assert counts == {
        "new": 1,
        "pull": 2,
        "copy": 1,
        "ship": 2,
        "sent": 1,
        "out": 2,
        "overdue": 1,
        "renewals": 1,
        "returned": 1,
    }
    assert done.number not in set().union(*(members(name) for name in worklists.NAMES))


def test_the_counts_are_one_query_over_the_open_requests(library):
    receive(library)
    with CaptureQueriesContext(connection) as queries:
        worklists.count_worklists()
    assert len(queries) == 1
    sql = queries[0]["sql"]
    # Confined to the open work (what the partial index lending_open_work holds), never the history.
    assert '"status" IN' in sql and "'received'" in sql
    assert all(f"'{status}'" not in sql for status in ("completed", "unfilled", "cancelled"))


def test_an_unknown_worklist_is_a_key_error():
    with pytest.raises(KeyError):
        worklists.worklist_q("nonsense")


def test_the_queue_pages_through_the_open_requests(client, staff_user, library):
    for n in range(30):
        receive(library, title=f"Book {n:02d}")
    client.force_login(staff_user)
    first = client.get("/desk/lending/")
    assert first.context["count"] == 30 and len(first.context["rows"]) == 25
    cursor = first.context["page"].next_cursor
    second = client.get("/desk/lending/", {"cursor": cursor})
    shown = {row.number for row in first.context["rows"]} | {row.number for row in second.context["rows"]}
    assert len(second.context["rows"]) == 5 and len(shown) == 30
