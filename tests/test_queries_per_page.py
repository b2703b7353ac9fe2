"""DESIGN.md §13: a page's queries do not grow with the history. Each page is loaded with a small
database, then with several times more requests, patrons, lenders, events and extensions, and must
run the same number of queries both times."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ill.models import Request
from tests import factories as f

pytestmark = pytest.mark.django_db

STATUSES = ["submitted", "ordered", "unfilled", "arrived", "on_loan", "returned", "closed", "rejected"]


def grow(n, branch, lender):
    """n more requests over every status, each with its own patron and lender, events and an
    extension request now and then."""
    for i in range(n):
        patron = f.PatronFactory(home_branch=branch)
        other = f.LendingInstitutionFactory()
        item = f.RequestFactory(
            patron=patron,
            status=STATUSES[i % len(STATUSES)],
            pickup_branch=branch,
            lender=lender if i % 2 else other,
            due_date=f.future(i % 9 - 4) if STATUSES[i % len(STATUSES)] == "on_loan" else None,
            title=f"情報検索の研究 {i}",
        )
        f.RequestEventFactory(request=item)
        if i % 5 == 4 and item.status == "on_loan":
            f.ExtensionRequestFactory(request=item)


def queries(client: Client, path: str, method: str = "get", data=None) -> int:
    getattr(client, method)(path, data)  # the session and permission sets are cached from then on
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data)
    assert response.status_code in (200, 302), (path, response.status_code)
    return len(captured)


def confirm_data(patron):
    return {
        "step": "confirm",
        "material_type": "book",
        "title": "情報検索の基礎",
        "author": "北",
        "pickup_branch": patron.home_branch.pk,
        "scope": "domestic",
        "expense_type": "private",
    }


DESK_PAGES = [
    "/desk/",
    "/desk/?branch=",
    "/desk/requests/",
    "/desk/requests/?branch=&q=情報検索&status=closed",
    "/desk/requests/?branch=&q=情報",
    "/desk/requests/?branch=&worklist=overdue",
    "/desk/requests/?branch=&attention=true",
    "/desk/requests/?branch=&sort=due",
    "/desk/patrons/",
    "/desk/patrons/?q=佐藤",
]


def test_desk_and_patron_pages_run_as_many_queries_with_more_history(client, staff_user, undergraduate, lender):
    branch = undergraduate.home_branch
    desk, patron = Client(), Client()
    desk.force_login(staff_user)
    patron.force_login(undergraduate.user)
    FINISHED = ["closed", "rejected", "cancelled", "handed_over"]  # none counts against the loan limit
    for i in range(3):
        f.RequestFactory(patron=undergraduate, status=FINISHED[i], pickup_branch=branch, lender=lender)
    f.RequestFactory(patron=undergraduate, status="submitted", pickup_branch=branch)
    grow(8, branch, lender)

    def measure():
        counts = {path: queries(desk, path) for path in DESK_PAGES}
        counts["/my/"] = queries(patron, "/my/")
        counts["/my/?finished=all"] = queries(patron, "/my/?finished=all")
        counts["/my/requests/new/loan/"] = queries(patron, "/my/requests/new/loan/")
        counts["confirm"] = queries(patron, "/my/requests/new/loan/", "post", confirm_data(undergraduate))
        return counts

    small = measure()
    grow(40, branch, lender)
    for i in range(30):
        f.RequestFactory(patron=undergraduate, status=FINISHED[i % len(FINISHED)], pickup_branch=branch)
    assert Request.objects.count() > 80
    assert measure() == small
