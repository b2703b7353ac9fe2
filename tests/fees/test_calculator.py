"""Tests for fees.calculator (pure Python; runs without Django settings)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fees.calculator import (
    MAX_TOTAL,
    Breakdown,
    CopyItem,
    FaxNotAvailable,
    FeeSchedule,
    Line,
    NeedsQuote,
    PagePrice,
    Share,
    TooExpensive,
    estimate_copy_range,
    estimate_loan_range,
    price_copies,
    price_loans,
    seed_examples,
)


def rows(lines):
    """Lines as (code, unit price, quantity, amount, section) tuples, for compact asserts."""
    return [(ln.code, ln.unit_price, ln.quantity, ln.amount, ln.section) for ln in lines]


def sums(b):
    return (b.copy_fee, b.postage, b.other_fees, b.tax, b.total)


# --- the seed's worked examples (料金例1–3) ----------------------------------------------


def test_seed_example_1_mono_and_postage():
    b = price_copies(
        FeeSchedule(mono_price=35, postage_per_shipment=140),
        [CopyItem(key="r1", mono_pages=3), CopyItem(key="r2", mono_pages=4)],
    )
    assert sums(b) == (245, 140, 0, 0, 385)
    assert rows(b.lines) == [
        ("copy_mono", 35, 7, 245, "A"),
        ("postage", 140, 1, 140, "B"),
    ]
    assert rows(b.share_for("r1").lines) == [
        ("copy_mono", 35, 3, 105, "A"),
        ("postage", 70, 1, 70, "B"),
    ]
    assert [s.total for s in b.shares] == [175, 210]


def test_seed_example_2_colour_handling_bank_transfer():
    schedule = FeeSchedule(
        mono_price=50,
        colour_price=200,
        handling_fee_per_item=200,
        bank_transfer_fee=210,
        postage_per_shipment=140,
    )
    b = price_copies(
        schedule,
        [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=2, colour_pages=2)],
    )
    assert sums(b) == (650, 140, 610, 0, 1400)
    assert rows(b.lines) == [
        ("copy_mono", 50, 5, 250, "A"),
        ("copy_colour", 200, 2, 400, "A"),
        ("postage", 140, 1, 140, "B"),
        ("handling", 200, 2, 400, "C"),
        ("bank_transfer", 210, 1, 210, "C"),
    ]
    assert rows(b.share_for(2).lines) == [
        ("copy_mono", 50, 2, 100, "A"),
        ("copy_colour", 200, 2, 400, "A"),
        ("postage", 70, 1, 70, "B"),
        ("handling", 200, 1, 200, "C"),
        ("bank_transfer", 105, 1, 105, "C"),
    ]
    assert [s.total for s in b.shares] == [525, 875]


def test_seed_example_3_fax_per_page_instead_of_postage():
    schedule = FeeSchedule(mono_price=35, postage_per_shipment=140, fax_fee_mode="per_page", fax_fee_per_page=40)
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=4)], delivery="fax")
    assert sums(b) == (245, 280, 0, 0, 525)
    assert rows(b.lines) == [
        ("copy_mono", 35, 7, 245, "A"),
        ("fax_per_page", 40, 7, 280, "B"),
    ]
    assert rows(b.share_for(1).lines) == [
        ("copy_mono", 35, 3, 105, "A"),
        ("fax_per_page", 40, 3, 120, "B"),
    ]
    assert [s.total for s in b.shares] == [225, 300]


def test_seed_examples_function():
    results = seed_examples()
    assert [b.total for _, b in results] == [385, 1400, 525]
    assert [(b.copy_fee, b.postage, b.other_fees) for _, b in results] == [
        (245, 140, 0),
        (650, 140, 610),
        (245, 280, 0),
    ]
    assert all(label for label, _ in results)


# --- each fee kind -----------------------------------------------------------------------


def test_paper_size_prices_override_defaults_and_aggregate():
    schedule = FeeSchedule(
        mono_price=35,
        colour_price=100,
        paper_prices={"A3": PagePrice(mono=70, colour=200), "b5": PagePrice(mono=35, colour=90)},
    )
    b = price_copies(
        schedule,
        [
            CopyItem(key=1, mono_pages=2),
            CopyItem(key=2, mono_pages=3, colour_pages=1, paper_size="a3"),
            CopyItem(key=3, mono_pages=4, colour_pages=1, paper_size="B5"),
        ],
    )
    # A4 and B5 mono share the unit price 35 → one line; A3 mono 70 is a second copy_mono line.
    assert rows(b.lines) == [
        ("copy_mono", 35, 6, 210, "A"),
        ("copy_mono", 70, 3, 210, "A"),
        ("copy_colour", 90, 1, 90, "A"),
        ("copy_colour", 200, 1, 200, "A"),
    ]
    assert b.total == 710
    assert schedule.page_price("A3 ") == PagePrice(mono=70, colour=200)
    assert schedule.page_price("A5") == PagePrice(mono=35, colour=100)


def test_paper_prices_are_copied_and_read_only():
    prices = {"A3": PagePrice(mono=70)}
    schedule = FeeSchedule(mono_price=35, paper_prices=prices)
    prices["A3"] = PagePrice(mono=1)
    assert schedule.page_price("A3").mono == 70
    with pytest.raises(TypeError):
        schedule.paper_prices["A3"] = PagePrice(mono=1)  # type: ignore[index]
    same = FeeSchedule(mono_price=35, paper_prices={"A3": PagePrice(mono=70)})
    assert schedule == same and hash(schedule) == hash(same)


def test_express_adds_surcharge_once_per_shipment_on_top_of_postage():
    schedule = FeeSchedule(mono_price=40, postage_per_shipment=140, express_surcharge=300)
    items = [CopyItem(key=1, mono_pages=5), CopyItem(key=2, mono_pages=5)]
    mail = price_copies(schedule, items)
    express = price_copies(schedule, items, delivery="express")
    assert express.total - mail.total == 300
    assert rows(express.lines) == [
        ("copy_mono", 40, 10, 400, "A"),
        ("postage", 140, 1, 140, "B"),
        ("express", 300, 1, 300, "C"),
    ]
    assert [s.other_fees for s in express.shares] == [150, 150]


def test_fax_fixed_fee_replaces_postage():
    schedule = FeeSchedule(mono_price=35, postage_per_shipment=140, fax_fee_mode="fixed", fax_fee_fixed=500)
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=40)], delivery="fax")
    assert rows(b.lines) == [("copy_mono", 35, 43, 1505, "A"), ("fax_fixed", 500, 1, 500, "B")]
    assert (b.postage, b.total) == (500, 2005)
    assert [s.postage for s in b.shares] == [250, 250]


def test_fax_per_page_counts_colour_pages_too():
    schedule = FeeSchedule(mono_price=35, colour_price=100, fax_fee_mode="per_page", fax_fee_per_page=50)
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=2, colour_pages=3)], delivery="fax")
    assert rows(b.lines) == [
        ("copy_mono", 35, 2, 70, "A"),
        ("copy_colour", 100, 3, 300, "A"),
        ("fax_per_page", 50, 5, 250, "B"),
    ]


def test_fax_impossible_when_lender_has_no_fax():
    schedule = FeeSchedule(mono_price=35, postage_per_shipment=140)
    with pytest.raises(FaxNotAvailable, match="cannot deliver by fax"):
        price_copies(schedule, [CopyItem(key=1, mono_pages=3)], delivery="fax")
    assert issubclass(FaxNotAvailable, ValueError)


def test_bank_transfer_fee_once_per_shipment():
    schedule = FeeSchedule(mono_price=10, bank_transfer_fee=210)
    one = price_copies(schedule, [CopyItem(key=1, mono_pages=1)])
    three = price_copies(schedule, [CopyItem(key=k, mono_pages=1) for k in range(3)])
    assert rows(one.lines)[-1] == ("bank_transfer", 210, 1, 210, "C")
    assert rows(three.lines) == [("copy_mono", 10, 3, 30, "A"), ("bank_transfer", 210, 1, 210, "C")]
    assert [s.other_fees for s in three.shares] == [70, 70, 70]


def test_handling_fee_per_item():
    schedule = FeeSchedule(mono_price=35, handling_fee_per_item=300)
    b = price_copies(schedule, [CopyItem(key=k, mono_pages=0) for k in range(3)])
    assert rows(b.lines) == [("handling", 300, 3, 900, "C")]
    assert [rows(s.lines) for s in b.shares] == [[("handling", 300, 1, 300, "C")]] * 3


def test_tax_exclusive_rounds_down():
    schedule = FeeSchedule(mono_price=5, tax_rate_percent=10)
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=201)])  # 1,005 yen before tax
    assert rows(b.lines) == [("copy_mono", 5, 201, 1005, "A"), ("tax", 100, 1, 100, "C")]
    assert sums(b) == (1005, 0, 100, 100, 1105)


def test_tax_is_on_a_plus_b_plus_c():
    schedule = FeeSchedule(
        mono_price=50,
        postage_per_shipment=140,
        handling_fee_per_item=200,
        bank_transfer_fee=210,
        tax_rate_percent=8,
    )
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=4)])
    pre_tax = 350 + 140 + 400 + 210
    assert b.tax == pre_tax * 8 // 100 == 88
    assert b.other_fees == 400 + 210 + 88
    assert b.total == pre_tax + 88


def test_tax_inclusive_adds_no_tax_line():
    schedule = FeeSchedule(mono_price=5, tax_rate_percent=10, tax_included=True)
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=201)])
    assert rows(b.lines) == [("copy_mono", 5, 201, 1005, "A")]
    assert (b.tax, b.total) == (0, 1005)


def test_tax_shares_are_proportional_with_largest_remainder():
    schedule = FeeSchedule(mono_price=35, tax_rate_percent=10)
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=4)])
    # 245 before tax → 24; quotas 10.29 and 13.71 → the larger remainder gets the extra yen.
    assert b.tax == 24
    assert [s.tax for s in b.shares] == [10, 14]
    assert [s.total for s in b.shares] == [115, 154]


def test_tax_share_tie_goes_to_earlier_request():
    schedule = FeeSchedule(mono_price=1, tax_rate_percent=10)
    b = price_copies(schedule, [CopyItem(key="a", mono_pages=15), CopyItem(key="b", mono_pages=15)])
    assert b.tax == 3
    assert [s.tax for s in b.shares] == [2, 1]
    assert rows(b.share_for("a").lines)[-1] == ("tax", 2, 1, 2, "C")


def test_overseas_flat_fee_and_fax_surcharge():
    schedule = FeeSchedule(
        mono_price=35,  # ignored: overseas lenders charge a flat fee per item
        postage_per_shipment=140,  # ignored likewise
        overseas=True,
        overseas_flat_fee_per_item=1800,
        overseas_fax_surcharge=500,
        bank_transfer_fee=100,
    )
    items = [CopyItem(key=1, mono_pages=12), CopyItem(key=2, mono_pages=30, colour_pages=2)]
    mail = price_copies(schedule, items)
    assert rows(mail.lines) == [
        ("overseas_flat", 1800, 2, 3600, "A"),
        ("bank_transfer", 100, 1, 100, "C"),
    ]
    fax = price_copies(schedule, items, delivery="fax")  # fax_fee_mode "none" does not matter
    assert rows(fax.lines) == [
        ("overseas_flat", 1800, 2, 3600, "A"),
        ("overseas_fax", 500, 2, 1000, "C"),
        ("bank_transfer", 100, 1, 100, "C"),
    ]
    assert sums(fax) == (3600, 0, 1100, 0, 4700)
    assert [s.total for s in fax.shares] == [2350, 2350]


# --- loans -------------------------------------------------------------------------------


def test_loan_round_trip():
    b = price_loans(FeeSchedule(loan_fee_mode="round_trip", loan_fee=1600), ["x", "y"])
    assert rows(b.lines) == [("loan_round_trip", 1600, 2, 3200, "B")]
    assert sums(b) == (0, 3200, 0, 0, 3200)
    assert [s.total for s in b.shares] == [1600, 1600]


def test_loan_return_only():
    b = price_loans(FeeSchedule(loan_fee_mode="return_only", loan_fee=800), ["ndl"])
    assert rows(b.lines) == [("loan_return_only", 800, 1, 800, "B")]
    assert b.total == 800


def test_loan_free_has_no_lines_even_for_express():
    schedule = FeeSchedule(loan_fee_mode="free", loan_fee=1600, loan_express_surcharge=300)
    for express in (False, True):
        b = price_loans(schedule, [1, 2], express=express)
        assert b.lines == ()
        assert b.total == 0
        assert [s.total for s in b.shares] == [0, 0]


def test_loan_quote_raises_needs_quote():
    with pytest.raises(NeedsQuote, match="quotes loans case by case"):
        price_loans(FeeSchedule(loan_fee_mode="quote"), [1])
    assert issubclass(NeedsQuote, ValueError)


def test_loan_express_surcharge_per_item_and_tax():
    schedule = FeeSchedule(loan_fee=1600, loan_express_surcharge=350, tax_rate_percent=10)
    b = price_loans(schedule, [1, 2], express=True)
    assert rows(b.lines) == [
        ("loan_round_trip", 1600, 2, 3200, "B"),
        ("loan_express", 350, 2, 700, "C"),
        ("tax", 390, 1, 390, "C"),
    ]
    assert sums(b) == (0, 3200, 1090, 390, 4290)
    assert [s.total for s in b.shares] == [2145, 2145]


# --- shares ------------------------------------------------------------------------------


def test_share_for_one_request_is_the_whole_invoice():
    schedule = FeeSchedule(mono_price=35, postage_per_shipment=140, bank_transfer_fee=210)
    b = price_copies(schedule, [CopyItem(key="only", mono_pages=7)])
    share = b.share_for("only")
    assert share.lines == b.lines
    assert share.total == b.total == 245 + 140 + 210


def test_shares_for_two_requests_split_odd_postage():
    schedule = FeeSchedule(mono_price=10, postage_per_shipment=141)
    b = price_copies(schedule, [CopyItem(key=1, mono_pages=1), CopyItem(key=2, mono_pages=1)])
    assert [s.postage for s in b.shares] == [71, 70]


def test_shares_for_three_requests_with_remainders():
    schedule = FeeSchedule(mono_price=35, postage_per_shipment=140, bank_transfer_fee=211, express_surcharge=100)
    b = price_copies(
        schedule,
        [CopyItem(key=k, mono_pages=p) for k, p in (("a", 1), ("b", 2), ("c", 3))],
        delivery="express",
    )
    assert [s.postage for s in b.shares] == [47, 47, 46]
    assert [rows(s.lines) for s in b.shares][2] == [
        ("copy_mono", 35, 3, 105, "A"),
        ("postage", 46, 1, 46, "B"),
        ("bank_transfer", 70, 1, 70, "C"),
        ("express", 33, 1, 33, "C"),
    ]
    assert [s.other_fees for s in b.shares] == [71 + 34, 70 + 33, 70 + 33]
    assert sum(s.total for s in b.shares) == b.total == 210 + 140 + 211 + 100


def test_share_for_unknown_key():
    b = price_copies(FeeSchedule(mono_price=1), [CopyItem(key=1, mono_pages=1)])
    with pytest.raises(KeyError):
        b.share_for(2)


def test_duplicate_keys_and_empty_shipments_are_rejected():
    schedule = FeeSchedule(mono_price=1, loan_fee=1)
    with pytest.raises(ValueError, match="only once"):
        price_copies(schedule, [CopyItem(key=1, mono_pages=1), CopyItem(key=1, mono_pages=2)])
    with pytest.raises(ValueError, match="no requests"):
        price_copies(schedule, [])
    with pytest.raises(ValueError, match="no requests"):
        price_loans(schedule, [])


def test_unknown_delivery_is_rejected():
    with pytest.raises(ValueError, match="unknown delivery"):
        price_copies(FeeSchedule(), [CopyItem(key=1, mono_pages=1)], delivery="pigeon")


# --- estimates ---------------------------------------------------------------------------


def test_estimate_copy_range_skips_lenders_without_fax():
    cheap = FeeSchedule(mono_price=30, postage_per_shipment=140)
    dear = FeeSchedule(mono_price=50, postage_per_shipment=140, fax_fee_mode="fixed", fax_fee_fixed=1000)
    overseas = FeeSchedule(overseas=True, overseas_flat_fee_per_item=1500, overseas_fax_surcharge=500)
    item = CopyItem(key="new", mono_pages=10)
    assert estimate_copy_range([cheap, dear, overseas], item) == (440, 1500)
    assert estimate_copy_range([cheap, dear, overseas], item, delivery="fax") == (1500, 2000)
    with pytest.raises(ValueError, match="no lender"):
        estimate_copy_range([cheap], item, delivery="fax")
    with pytest.raises(ValueError, match="no lender"):
        estimate_copy_range([], item)


def test_estimate_loan_range():
    university = FeeSchedule(loan_fee=1600, loan_express_surcharge=400)
    ndl = FeeSchedule(loan_fee_mode="return_only", loan_fee=800)
    klnet = FeeSchedule(loan_fee_mode="free")
    other = FeeSchedule(loan_fee_mode="quote")
    assert estimate_loan_range([university, ndl, klnet, other]) == (0, 1600)
    assert estimate_loan_range([university, ndl, other], express=True) == (800, 2000)
    assert estimate_loan_range([other, other]) is None
    assert estimate_loan_range(iter([ndl])) == (800, 800)


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "mono_price",
        "colour_price",
        "handling_fee_per_item",
        "postage_per_shipment",
        "express_surcharge",
        "fax_fee_per_page",
        "fax_fee_fixed",
        "bank_transfer_fee",
        "tax_rate_percent",
        "overseas_flat_fee_per_item",
        "overseas_fax_surcharge",
        "loan_fee",
        "loan_express_surcharge",
    ],
)
def test_negative_amounts_are_rejected(field):
    with pytest.raises(ValueError, match=f"{field} must not be negative"):
        FeeSchedule(**{field: -1})


def test_tax_rate_above_100_is_rejected():
    with pytest.raises(ValueError, match="between 0 and 100"):
        FeeSchedule(tax_rate_percent=101)
    assert FeeSchedule(tax_rate_percent=100).tax_rate_percent == 100


def test_unknown_modes_are_rejected():
    with pytest.raises(ValueError, match="unknown fax_fee_mode"):
        FeeSchedule(fax_fee_mode="pigeon")
    with pytest.raises(ValueError, match="unknown loan_fee_mode"):
        FeeSchedule(loan_fee_mode="barter")


def test_negative_paper_prices_and_bad_paper_sizes_are_rejected():
    with pytest.raises(ValueError, match="mono price must not be negative"):
        PagePrice(mono=-1)
    with pytest.raises(ValueError, match="colour price must not be negative"):
        PagePrice(colour=-5)
    with pytest.raises(TypeError, match="must be a PagePrice"):
        FeeSchedule(paper_prices={"A3": 70})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="given twice"):
        FeeSchedule(paper_prices={"A3": PagePrice(mono=1), "a3": PagePrice(mono=2)})


def test_negative_pages_are_rejected():
    with pytest.raises(ValueError, match="mono_pages must not be negative"):
        CopyItem(key=1, mono_pages=-1)
    with pytest.raises(ValueError, match="colour_pages must not be negative"):
        CopyItem(key=1, mono_pages=1, colour_pages=-2)
    with pytest.raises(ValueError, match="paper_size"):
        CopyItem(key=1, mono_pages=1, paper_size=" ")


@pytest.mark.parametrize("value", [35.0, 35.5, "35", True, None])
def test_non_integer_amounts_are_rejected(value):
    with pytest.raises(TypeError, match="whole number"):
        FeeSchedule(mono_price=value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="whole number"):
        CopyItem(key=1, mono_pages=value)  # type: ignore[arg-type]


def test_inconsistent_lines_and_breakdowns_are_rejected():
    with pytest.raises(ValueError, match="35 × 2 != 71"):
        Line(code="copy_mono", unit_price=35, quantity=2, amount=71, section="A")
    with pytest.raises(ValueError, match="section"):
        Line(code="postage", unit_price=140, quantity=1, amount=140, section="C")
    line = Line(code="postage", unit_price=140, quantity=1, amount=140, section="B")
    share = Share(key=1, lines=(line,), copy_fee=0, postage=140, other_fees=0, total=140)
    with pytest.raises(ValueError, match="do not add up"):
        Breakdown(
            lines=(line,),
            copy_fee=0,
            postage=140,
            other_fees=0,
            tax=0,
            total=140,
            shares=(share, share),
        )


# --- properties --------------------------------------------------------------------------

yen = st.integers(min_value=0, max_value=5_000)
page_prices = st.builds(PagePrice, mono=yen, colour=yen)

schedules = st.builds(
    FeeSchedule,
    mono_price=yen,
    colour_price=yen,
    paper_prices=st.dictionaries(st.sampled_from(["A3", "B4", "B5"]), page_prices, max_size=3),
    handling_fee_per_item=yen,
    postage_per_shipment=yen,
    express_surcharge=yen,
    fax_fee_mode=st.sampled_from(["none", "per_page", "fixed"]),
    fax_fee_per_page=yen,
    fax_fee_fixed=yen,
    bank_transfer_fee=yen,
    tax_rate_percent=st.integers(min_value=0, max_value=100),
    tax_included=st.booleans(),
    overseas=st.booleans(),
    overseas_flat_fee_per_item=yen,
    overseas_fax_surcharge=yen,
    loan_fee_mode=st.sampled_from(["round_trip", "return_only", "free"]),
    loan_fee=yen,
    loan_express_surcharge=yen,
)


@st.composite
def item_lists(draw):
    n = draw(st.integers(min_value=1, max_value=6))
    return [
        CopyItem(
            key=i,
            mono_pages=draw(st.integers(min_value=0, max_value=300)),
            colour_pages=draw(st.integers(min_value=0, max_value=50)),
            paper_size=draw(st.sampled_from(["A4", "A3", "B4", "B5", "a3"])),
        )
        for i in range(n)
    ]


deliveries = st.sampled_from(["mail", "express", "fax"])


def _too_expensive(schedule, items, delivery) -> bool:
    try:
        price_copies(schedule, items, delivery=delivery)
    except TooExpensive:
        return True
    except FaxNotAvailable:
        return False
    return False


def test_a_total_above_max_total_is_refused():
    schedule = FeeSchedule(mono_price=5_000)
    assert price_copies(schedule, [CopyItem(key=1, mono_pages=2_000)]).total == MAX_TOTAL
    with pytest.raises(TooExpensive):
        price_copies(schedule, [CopyItem(key=1, mono_pages=2_000), CopyItem(key=2, mono_pages=1)])


def priced(schedule, items, delivery):
    """The breakdown; None when the lender cannot fax or the total is above what a charge may be."""
    try:
        return price_copies(schedule, items, delivery=delivery)
    except FaxNotAvailable:
        return None
    except TooExpensive as exc:
        assert exc.total > MAX_TOTAL
        return None


def assert_consistent(b):
    assert b.total == b.copy_fee + b.postage + b.other_fees
    assert sum(s.total for s in b.shares) == b.total
    for field in ("copy_fee", "postage", "other_fees", "tax"):
        assert sum(getattr(s, field) for s in b.shares) == getattr(b, field)
    assert 0 <= b.tax <= b.other_fees
    for part in (b, *b.shares):
        assert all(type(v) is int and v >= 0 for v in sums(part))
        for line in part.lines:
            assert line.amount == line.unit_price * line.quantity > 0
        for section, total in (("A", part.copy_fee), ("B", part.postage), ("C", part.other_fees)):
            assert sum(ln.amount for ln in part.lines if ln.section == section) == total
        assert sum(ln.amount for ln in part.lines) == part.total


@settings(max_examples=300, deadline=None)
@given(schedule=schedules, items=item_lists(), delivery=deliveries)
def test_property_copies_are_consistent_and_deterministic(schedule, items, delivery):
    b = priced(schedule, items, delivery)
    if b is None:
        assert (delivery == "fax" and not schedule.can_fax) or _too_expensive(schedule, items, delivery)
        return
    assert_consistent(b)
    assert [s.key for s in b.shares] == [item.key for item in items]
    assert price_copies(schedule, list(items), delivery=delivery) == b


@settings(max_examples=300, deadline=None)
@given(
    schedule=schedules,
    items=item_lists(),
    delivery=deliveries,
    data=st.data(),
    extra_mono=st.integers(min_value=0, max_value=100),
    extra_colour=st.integers(min_value=0, max_value=100),
)
def test_property_more_pages_never_cost_less(schedule, items, delivery, data, extra_mono, extra_colour):
    before = priced(schedule, items, delivery)
    if before is None:
        return
    i = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    old = items[i]
    grown = list(items)
    grown[i] = CopyItem(
        key=old.key,
        mono_pages=old.mono_pages + extra_mono,
        colour_pages=old.colour_pages + extra_colour,
        paper_size=old.paper_size,
    )
    after = priced(schedule, grown, delivery)
    if after is None:  # above MAX_TOTAL: refused, which is not cheaper either
        assert _too_expensive(schedule, grown, delivery)
        return
    assert after.total >= before.total
    assert after.share_for(old.key).copy_fee >= before.share_for(old.key).copy_fee


@settings(max_examples=200, deadline=None)
@given(
    schedule=schedules,
    n=st.integers(min_value=1, max_value=7),
    express=st.booleans(),
)
def test_property_loans_are_consistent(schedule, n, express):
    b = price_loans(schedule, [f"loan-{k}" for k in range(n)], express=express)
    assert_consistent(b)
    if schedule.loan_fee_mode == "free":
        assert b.total == 0
    assert price_loans(schedule, [f"loan-{k}" for k in range(n)], express=express) == b


@settings(max_examples=200, deadline=None)
@given(
    amount=yen,
    n=st.integers(min_value=1, max_value=9),
    delivery=st.sampled_from(["mail", "express"]),
)
def test_property_shared_postage_splits_equally_front_loaded(amount, n, delivery):
    schedule = FeeSchedule(postage_per_shipment=amount)
    b = price_copies(schedule, [CopyItem(key=k, mono_pages=1) for k in range(n)], delivery=delivery)
    parts = [s.postage for s in b.shares]
    assert sum(parts) == amount
    assert parts == sorted(parts, reverse=True)
    assert max(parts) - min(parts) <= 1


@settings(max_examples=100, deadline=None)
@given(
    schedules=st.lists(schedules, min_size=1, max_size=5),
    items=item_lists(),
    delivery=deliveries,
)
def test_property_estimate_range_brackets_each_lender(schedules, items, delivery):
    item = items[0]
    totals = [b.total for s in schedules if (b := priced(s, [item], delivery)) is not None]
    if not totals:
        with pytest.raises(ValueError):
            estimate_copy_range(schedules, item, delivery=delivery)
        return
    assert estimate_copy_range(schedules, item, delivery=delivery) == (min(totals), max(totals))
