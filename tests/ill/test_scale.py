"""What keeps the desk's cost on the open work (DESIGN.md §13): the partial index's statuses, the
worklists inside them, the search's handling of short terms, the cached permissions."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ill.lifecycle import OPEN_STATES
from ill.models import OPEN_STATUSES, Request
from ill.search import request_q
from ill.worklists import WORKLISTS, needs_attention_q, worklist_q
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_partial_index_holds_exactly_the_open_states():
    assert set(OPEN_STATUSES) == {str(s) for s in OPEN_STATES}


@pytest.mark.parametrize("name", [name for name, _label in WORKLISTS])
def test_every_worklist_lies_within_the_open_requests(name, undergraduate, lender):
    for status in Request.Status.values:
        f.RequestFactory(patron=undergraduate, status=status, lender=lender, due_date=f.future(-3))
    found = Request.objects.filter(worklist_q(name))
    assert all(r.status in OPEN_STATUSES for r in found)
    assert not Request.objects.filter(needs_attention_q()).exclude(status__in=OPEN_STATUSES).exists()


def test_a_two_character_term_matches_the_start_of_titles_and_names_and_open_requests_anywhere(undergraduate):
    starts = f.RequestFactory(title="経済学の基礎", status="closed")
    inside_open = f.RequestFactory(title="日本経済史", status="submitted")
    inside_closed = f.RequestFactory(title="日本経済史", status="closed")
    found = set(Request.objects.filter(request_q("経済")))
    assert starts in found and inside_open in found and inside_closed not in found


def test_a_longer_term_matches_anywhere_and_a_surname_finds_the_patron():
    satou = f.PatronFactory(full_name="佐藤 花子")
    mine = f.RequestFactory(patron=satou, title="A history of paper", status="closed")
    other = f.RequestFactory(title="日本経済史の研究", status="closed")
    assert set(Request.objects.filter(request_q("佐藤"))) == {mine}
    assert set(Request.objects.filter(request_q("経済史"))) == {other}
    assert set(Request.objects.filter(request_q("history of"))) == {mine}


def test_permissions_are_read_once_and_a_new_group_applies_at_once(client, undergraduate):
    client.force_login(undergraduate.user)
    assert client.get("/desk/").status_code == 403
    with CaptureQueriesContext(connection) as second:
        client.get("/desk/")
    assert not [q for q in second.captured_queries if "auth_permission" in q["sql"]]
    undergraduate.user.groups.add(Group.objects.get(name="Circulation staff"))
    assert client.get("/desk/").status_code == 200


def test_the_desk_counts_are_cached_until_a_request_changes(
    client, staff_user, undergraduate, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    client.get("/desk/?branch=")
    with CaptureQueriesContext(connection) as cached:
        page = client.get("/desk/?branch=")
    assert not [q for q in cached.captured_queries if "COUNT(" in q["sql"]]
    assert page.context["counts"]["review"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        f.RequestFactory(patron=undergraduate, status="submitted")
    assert client.get("/desk/?branch=").context["counts"]["review"] == 1


def test_numbers_typed_in_full_width_are_found():
    item = f.RequestFactory(status="closed")
    wide = item.number.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)})
    assert set(Request.objects.filter(request_q(wide))) == {item}
    assert set(Request.objects.filter(request_q(item.patron.patron_number.upper()))) == {item}
