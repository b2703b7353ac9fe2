"""core.keyset: walking every page forwards and back gives each row once, in order, whatever the
sort key (nullable or not, ascending or descending) and however many ties."""

import datetime

import pytest

from core.keyset import bounded_count, decode, paginate
from ill.models import Request
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests():
    base = datetime.date(2026, 1, 1)
    rows = []
    for i in range(23):
        rows.append(f.RequestFactory(due_date=None if i % 4 == 0 else base + datetime.timedelta(days=i % 5)))
    return rows


def expected(key):
    name = key.lstrip("-")
    rows = list(Request.objects.all())
    nulls = [r for r in rows if getattr(r, name) is None]
    values = [r for r in rows if getattr(r, name) is not None]
    desc = key.startswith("-")
    values.sort(key=lambda r: (getattr(r, name), r.pk), reverse=desc)
    nulls.sort(key=lambda r: r.pk, reverse=desc)
    return [r.pk for r in (nulls + values if desc else values + nulls)]


@pytest.mark.parametrize("key", ["due_date", "-due_date", "submitted_at", "-submitted_at", "number", "-title"])
@pytest.mark.parametrize("size", [1, 4, 7, 25])
def test_forwards_then_backwards_visits_every_row_once_in_order(requests, key, size):
    want = expected(key) if "due" in key else None
    seen, pages, cursor = [], [], ""
    while True:
        page = paginate(Request.objects.all(), key, size, cursor)
        pages.append([r.pk for r in page])
        seen += pages[-1]
        assert page.has_previous == (len(pages) > 1)
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 23
    if want is not None:
        assert seen == want
    # and back again from the last page
    back = [pages[-1]]
    page = paginate(Request.objects.all(), key, size, cursor) if len(pages) > 1 else None
    while page is not None and page.has_previous:
        page = paginate(Request.objects.all(), key, size, page.previous_cursor)
        back.append([r.pk for r in page])
    assert list(reversed(back)) == pages


def test_a_forged_cursor_gives_the_first_page(requests):
    assert decode("not-a-cursor", [Request._meta.get_field("due_date"), Request._meta.pk]) is None
    page = paginate(Request.objects.all(), "-submitted_at", 5, "bm9wZQ")
    assert not page.has_previous and page.has_next and len(page) == 5


def test_the_count_stops_at_its_bound(requests):
    assert bounded_count(Request.objects.all(), bound=10) == (10, True)
    assert bounded_count(Request.objects.all(), bound=50) == (23, False)
