"""The estimate's fee schedules are read once and cached (ill.estimates.candidate_schedules), and
any change to a lender or a schedule prices the next estimate."""

import pickle

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fees import calculator
from ill import estimates
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_fee_schedule_survives_the_cache_unchanged():
    schedule = calculator.FeeSchedule(
        mono_price=40, paper_prices={"A3": calculator.PagePrice(mono=80, colour=200)}, tax_rate_percent=10
    )
    assert pickle.loads(pickle.dumps(schedule)) == schedule


def test_the_estimate_reads_the_schedules_once_and_sees_a_change(
    undergraduate, lender, django_capture_on_commit_callbacks
):
    request = f.RequestFactory.build(patron=undergraduate, kind="loan", delivery_method="mail")
    first = estimates.estimate(request)
    with CaptureQueriesContext(connection) as again:
        assert estimates.estimate(request) == first
    assert len(again) == 0
    with django_capture_on_commit_callbacks(execute=True):
        schedule = lender.fee_schedule
        schedule.loan_fee = (first.high or 0) + 5000
        schedule.save()
    assert first.high is not None and estimates.estimate(request).high > first.high
