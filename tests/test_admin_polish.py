"""The admin as a Japanese office reads it (issue 13): translated column headers, yen with
thousands separators, a share to one decimal, fiscal years as 2026年度（令和8年度）."""

import pytest
from django.utils import translation

from core.text import fiscal_year_label, format_percent
from tests import factories as f


def test_fiscal_years_are_written_with_the_era_in_japanese():
    assert fiscal_year_label(2026, "ja") == "2026年度（令和8年度）"
    assert fiscal_year_label(2019, "ja") == "2019年度（令和元年度）"
    assert fiscal_year_label(2018, "ja") == "2018年度（平成30年度）"
    assert fiscal_year_label(2026, "en") == "FY2026"


def test_a_small_share_is_not_rounded_down_to_nothing():
    assert format_percent(77, 10_000, "en") == "0.8 %"
    assert format_percent(3, 10_000, "en") == "<0.1 %"
    assert format_percent(0, 10_000, "en") == "0.0 %"
    assert format_percent(1, 0, "en") == "—"
    assert format_percent(5_000, 10_000, "ja") == "50.0%"


@pytest.mark.django_db
def test_the_charges_list_has_translated_headers_and_yen_amounts(admin_client):
    f.ChargeFactory(total=12_345)
    html = admin_client.get("/admin/fees/charge/", headers={"accept-language": "ja"}).content.decode()
    assert "12,345円" in html
    with translation.override("ja"):
        for label in (translation.gettext("request"), translation.gettext("budget code")):
            assert label not in ("request", "budget code")  # translated
            assert label in html


@pytest.mark.django_db
def test_the_support_budget_list_shows_the_share_used_and_the_year_in_japanese(admin_client):
    budget = f.SupportBudgetFactory(fiscal_year=2026, total=1_000_000)
    request = f.RequestFactory(support_budget=budget)
    f.ChargeFactory(request=request, total=7_700, payment_class="support", state="settled")
    html = admin_client.get("/admin/fees/supportbudget/", headers={"accept-language": "ja"}).content.decode()
    assert "2026年度（令和8年度）" in html
    assert "1,000,000円" in html


@pytest.mark.django_db
def test_the_fee_schedule_list_fits_six_columns(admin_client):
    f.FeeScheduleFactory()
    html = admin_client.get("/admin/fees/feeschedule/", headers={"accept-language": "en"}).content.decode()
    table = html[html.index('id="result_list"') :]
    head = table[: table.index("</thead>")]
    assert head.count("<th ") == 7  # the checkbox column and six
    assert " / " in html and "¥" in html
