"""Interlibrary-loan fee calculator (pure Python, no Django, whole yen only).

Every amount is an ``int`` number of yen; there are no floats anywhere.  The
only division is the consumption tax and the splitting of shared costs, and
both round DOWN (the tax with ``//``; the splits hand out the remainder yen
explicitly, see below).

Formula (DESIGN.md §5 and the seed's 料金 section)
--------------------------------------------------
For copies, one *shipment* (the requests a lender sends together)::

    total = (A) copy fee + (B) postage or communication fee + (C) other fees

* A = Σ unit price × pages, per paper size and per mono / colour
  (``FeeSchedule.paper_prices`` overrides the default prices for a size).
* B = ``postage_per_shipment`` for "mail" and "express"; for "fax" the
  communication fee *instead of* postage: ``fax_fee_per_page`` × pages
  (mode "per_page") or ``fax_fee_fixed`` (mode "fixed").  A lender whose
  mode is "none" cannot fax (``FaxNotAvailable``).
* C = ``handling_fee_per_item`` × items + ``bank_transfer_fee`` (once per
  payment = per shipment) + ``express_surcharge`` (once, "express" only) +
  consumption tax.  When prices exclude tax (``tax_included=False``) the tax
  is ``floor((A + B + C before tax) × rate / 100)``; when they include it, no
  tax line is added.  The tax is part of C and is also reported on its own.

Overseas lenders (``overseas=True``) charge a flat fee per item instead of
page prices and postage (the seed: "1件あたり1500~2000円程度"): it is put in
A as "overseas_flat" because it is the price of the copy itself.  Delivery by
fax adds ``overseas_fax_surcharge`` per item in C ("overseas_fax"); handling,
bank-transfer fee, express surcharge and tax apply as for domestic lenders.
The domestic fax mode is not consulted: overseas fax is always priced by the
surcharge.

Loans (``price_loans``) charge ``loan_fee`` per item according to
``loan_fee_mode``.  The fee is essentially postage (the seed: 往復送料), so
"loan_round_trip" / "loan_return_only" go in B; ``loan_express_surcharge``
per item goes in C like the copy express surcharge; tax as for copies.
"free" costs nothing at all (no lines, total 0, even for express) and
"quote" raises ``NeedsQuote``.

Shares: how a shipment is split across its requests
----------------------------------------------------
Each request is charged (and budget-committed, and reconciled with the
NACSIS-ILL fee-offset record: ITEM / UPRCE / QNT / CHRGE / POSTG / SUM, which
map to ``Line.code`` / ``unit_price`` / ``quantity`` / ``amount``,
``postage`` and ``total``) on its own, so the parts must add up to the
lender's invoice *to the yen*:

1. Costs that belong to one request go to that request: its copy pages, its
   handling fee, the per-page fax fee for its pages, the overseas per-item
   fees and its loan fee / loan express surcharge.
2. Costs per shipment (postage, fixed fax fee, bank-transfer fee, express
   surcharge) are split EQUALLY; the remainder yen go one each to the first
   requests in order (140 over 3 → 47, 47, 46).  Each cost is split on its
   own.
3. The tax, computed once on the shipment, is allocated in proportion to each
   request's pre-tax amount (1 + 2) by the largest-remainder method; ties go
   to the earlier request.

Each share carries its own lines (e.g. "postage" 47 × 1 = 47), so
``sum(share.total) == breakdown.total`` and the same holds for A, B, C and
tax.  Lines whose amount is 0 are left out everywhere.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Literal

__all__ = [
    "CODES",
    "Breakdown",
    "CopyItem",
    "FaxNotAvailable",
    "FeeSchedule",
    "Line",
    "MAX_TOTAL",
    "NeedsQuote",
    "PagePrice",
    "Share",
    "TooExpensive",
    "estimate_copy_range",
    "estimate_loan_range",
    "price_copies",
    "price_loans",
    "seed_examples",
]

Delivery = Literal["mail", "express", "fax"]
DELIVERIES: tuple[str, ...] = ("mail", "express", "fax")
FAX_FEE_MODES: tuple[str, ...] = ("none", "per_page", "fixed")
LOAN_FEE_MODES: tuple[str, ...] = ("round_trip", "return_only", "free", "quote")

#: Stable machine codes (translated by the UI) → section, in display order:
#: per-item costs before per-shipment costs within a section, tax last.
CODES: Mapping[str, str] = MappingProxyType(
    {
        "copy_mono": "A",
        "copy_colour": "A",
        "overseas_flat": "A",
        "postage": "B",
        "fax_per_page": "B",
        "fax_fixed": "B",
        "loan_round_trip": "B",
        "loan_return_only": "B",
        "handling": "C",
        "overseas_fax": "C",
        "loan_express": "C",
        "bank_transfer": "C",
        "express": "C",
        "tax": "C",
    }
)
_CODE_ORDER = {code: i for i, code in enumerate(CODES)}


class FaxNotAvailable(ValueError):
    """The lender does not deliver by fax (its fax fee mode is "none")."""


#: The most a shipment may come to (issue 12): ``core.bounds.MAX_YEN``, the bound of every stored
#: amount (a test keeps the two equal; this module stays free of Django). Typed pages and prices
#: are bounded too, but their products are not: 10,000 pages at ¥10,000 would not fit a charge.
MAX_TOTAL = 10_000_000


class TooExpensive(ValueError):
    """The computed total is above ``MAX_TOTAL``: a typing error in the pages or the fee schedule."""

    def __init__(self, total: int):
        self.total = total
        super().__init__(f"the computed total {total} is above {MAX_TOTAL}")


class NeedsQuote(ValueError):
    """The lender quotes loans case by case; there is no price to compute."""


def _check_yen(name: str, value: object) -> None:
    # bool is an int subclass; True yen is a bug, not a price.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number (int), got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def _normalise_size(paper_size: str) -> str:
    return paper_size.strip().upper()


@dataclass(frozen=True, kw_only=True)
class PagePrice:
    """Price per page (sheet) in monochrome and in colour."""

    mono: int = 0
    colour: int = 0

    def __post_init__(self) -> None:
        _check_yen("mono price", self.mono)
        _check_yen("colour price", self.colour)


@dataclass(frozen=True, kw_only=True)
class FeeSchedule:
    """One lending institution's fees (all amounts in yen, tax rate in %)."""

    mono_price: int = 0
    colour_price: int = 0
    # Excluded from the hash (a mapping is unhashable) but compared by ==.
    paper_prices: Mapping[str, PagePrice] = field(default_factory=dict, hash=False)
    handling_fee_per_item: int = 0
    postage_per_shipment: int = 0
    express_surcharge: int = 0
    fax_fee_mode: str = "none"
    fax_fee_per_page: int = 0
    fax_fee_fixed: int = 0
    bank_transfer_fee: int = 0
    tax_rate_percent: int = 0
    tax_included: bool = False
    overseas: bool = False
    overseas_flat_fee_per_item: int = 0
    overseas_fax_surcharge: int = 0
    loan_fee_mode: str = "round_trip"
    loan_fee: int = 0
    loan_express_surcharge: int = 0

    def __reduce__(self):
        """Pickled (for the estimates' cache) with its paper prices as a plain dict."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["paper_prices"] = dict(self.paper_prices)
        return (_schedule_from, (values,))

    def __post_init__(self) -> None:
        for name in (
            "mono_price",
            "colour_price",
            "handling_fee_per_item",
            "postage_per_shipment",
            "express_surcharge",
            "fax_fee_per_page",
            "fax_fee_fixed",
            "bank_transfer_fee",
            "overseas_flat_fee_per_item",
            "overseas_fax_surcharge",
            "loan_fee",
            "loan_express_surcharge",
        ):
            _check_yen(name, getattr(self, name))
        _check_yen("tax_rate_percent", self.tax_rate_percent)
        if self.tax_rate_percent > 100:
            raise ValueError(f"tax_rate_percent must be between 0 and 100, got {self.tax_rate_percent}")
        for name in ("tax_included", "overseas"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.fax_fee_mode not in FAX_FEE_MODES:
            raise ValueError(f"unknown fax_fee_mode {self.fax_fee_mode!r}; expected one of {FAX_FEE_MODES}")
        if self.loan_fee_mode not in LOAN_FEE_MODES:
            raise ValueError(f"unknown loan_fee_mode {self.loan_fee_mode!r}; expected one of {LOAN_FEE_MODES}")
        prices: dict[str, PagePrice] = {}
        for size, price in dict(self.paper_prices).items():
            if not isinstance(size, str) or not size.strip():
                raise ValueError(f"paper size must be a non-empty string, got {size!r}")
            if not isinstance(price, PagePrice):
                raise TypeError(f"price for paper size {size!r} must be a PagePrice, got {price!r}")
            key = _normalise_size(size)
            if key in prices:
                raise ValueError(f"paper size {key!r} is given twice")
            prices[key] = price
        # A private read-only copy: later changes to the caller's dict cannot alter a schedule.
        object.__setattr__(self, "paper_prices", MappingProxyType(prices))

    def page_price(self, paper_size: str) -> PagePrice:
        """The page prices for a paper size (case-insensitive), else the defaults."""
        default = PagePrice(mono=self.mono_price, colour=self.colour_price)
        return self.paper_prices.get(_normalise_size(paper_size), default)

    @property
    def can_fax(self) -> bool:
        return self.overseas or self.fax_fee_mode != "none"


def _schedule_from(values: dict) -> FeeSchedule:
    return FeeSchedule(**values)


@dataclass(frozen=True, kw_only=True)
class CopyItem:
    """One request's pages: ``key`` identifies the request (e.g. its pk)."""

    key: Hashable
    mono_pages: int
    colour_pages: int = 0
    paper_size: str = "A4"

    def __post_init__(self) -> None:
        _check_yen("mono_pages", self.mono_pages)
        _check_yen("colour_pages", self.colour_pages)
        if not isinstance(self.paper_size, str) or not self.paper_size.strip():
            raise ValueError(f"paper_size must be a non-empty string, got {self.paper_size!r}")

    @property
    def pages(self) -> int:
        return self.mono_pages + self.colour_pages


@dataclass(frozen=True, kw_only=True)
class Line:
    """An itemised charge: ``amount == unit_price × quantity``, in section A, B or C."""

    code: str
    unit_price: int
    quantity: int
    amount: int
    section: str

    def __post_init__(self) -> None:
        if CODES.get(self.code) != self.section:
            raise ValueError(f"line code {self.code!r} does not belong in section {self.section!r}")
        _check_yen("unit_price", self.unit_price)
        _check_yen("quantity", self.quantity)
        if self.amount != self.unit_price * self.quantity:
            raise ValueError(f"line {self.code}: {self.unit_price} × {self.quantity} != {self.amount}")


def _section_sums(lines: Sequence[Line]) -> tuple[int, int, int, int]:
    sums = {"A": 0, "B": 0, "C": 0}
    for line in lines:
        sums[line.section] += line.amount
    tax = sum(line.amount for line in lines if line.code == "tax")
    return sums["A"], sums["B"], sums["C"], tax


def _check_totals(what: str, lines: Sequence[Line], sections: tuple[int, int, int, int], total: int) -> None:
    a, b, c, _tax = sections
    if sections != _section_sums(lines) or total != a + b + c:
        raise ValueError(f"{what}: lines, sections and total do not agree")


@dataclass(frozen=True, kw_only=True)
class Share:
    """One request's part of a shipment (its own lines and sums)."""

    key: Hashable
    lines: tuple[Line, ...]
    copy_fee: int
    postage: int
    other_fees: int
    total: int
    tax: int = 0

    def __post_init__(self) -> None:
        sections = (self.copy_fee, self.postage, self.other_fees, self.tax)
        _check_totals(f"share {self.key!r}", self.lines, sections, self.total)


@dataclass(frozen=True, kw_only=True)
class Breakdown:
    """A shipment's charge: ``total == copy_fee + postage + other_fees`` == Σ shares."""

    lines: tuple[Line, ...]
    copy_fee: int
    postage: int
    other_fees: int
    tax: int
    total: int
    shares: tuple[Share, ...]

    def __post_init__(self) -> None:
        sections = (self.copy_fee, self.postage, self.other_fees, self.tax)
        _check_totals("breakdown", self.lines, sections, self.total)
        for name in ("copy_fee", "postage", "other_fees", "tax", "total"):
            if sum(getattr(s, name) for s in self.shares) != getattr(self, name):
                raise ValueError(f"breakdown: shares do not add up to {name}")
        keys = [s.key for s in self.shares]
        if len(set(keys)) != len(keys):
            raise ValueError("breakdown: a request appears in two shares")

    def share_for(self, key: Hashable) -> Share:
        """The share of the request ``key``; ``KeyError`` if it is not in this shipment."""
        for share in self.shares:
            if share.key == key:
                return share
        raise KeyError(key)


# --- internals --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Charge:
    code: str
    unit_price: int
    quantity: int = 1


def _split_equally(amount: int, n: int) -> list[int]:
    base, rest = divmod(amount, n)
    return [base + 1 if i < rest else base for i in range(n)]


def _split_proportionally(amount: int, weights: Sequence[int]) -> list[int]:
    """Largest-remainder allocation of ``amount`` by ``weights``; ties → earlier index."""
    whole = sum(weights)
    if whole == 0:
        return _split_equally(amount, len(weights))
    parts = [amount * w // whole for w in weights]
    remainders = [amount * w % whole for w in weights]
    left = amount - sum(parts)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[i] += 1
    return parts


def _lines(charges: Iterable[_Charge]) -> tuple[Line, ...]:
    """Aggregate charges with the same (code, unit price); drop zero amounts; stable order."""
    quantities: dict[tuple[str, int], int] = {}
    for charge in charges:
        if charge.unit_price and charge.quantity:
            key = (charge.code, charge.unit_price)
            quantities[key] = quantities.get(key, 0) + charge.quantity
    ordered = sorted(quantities, key=lambda key: (_CODE_ORDER[key[0]], key[1]))
    return tuple(
        Line(
            code=code,
            unit_price=unit,
            quantity=quantities[code, unit],
            amount=unit * quantities[code, unit],
            section=CODES[code],
        )
        for code, unit in ordered
    )


def _check_keys(keys: Sequence[Hashable]) -> None:
    if not keys:
        raise ValueError("nothing to price: the shipment has no requests")
    if len(set(keys)) != len(keys):
        raise ValueError("each request may appear only once in a shipment")


def _assemble(
    schedule: FeeSchedule,
    keys: Sequence[Hashable],
    item_charges: Sequence[Sequence[_Charge]],
    shipment_charges: Sequence[tuple[str, int]],
) -> Breakdown:
    n = len(keys)
    per_request = [list(charges) for charges in item_charges]
    for code, amount in shipment_charges:
        for charges, part in zip(per_request, _split_equally(amount, n), strict=True):
            charges.append(_Charge(code, part))
    whole = [c for charges in item_charges for c in charges]
    whole += [_Charge(code, amount) for code, amount in shipment_charges]

    pre_tax = [sum(c.unit_price * c.quantity for c in charges) for charges in per_request]
    tax = 0 if schedule.tax_included else sum(pre_tax) * schedule.tax_rate_percent // 100
    if tax:
        whole.append(_Charge("tax", tax))
        for charges, part in zip(per_request, _split_proportionally(tax, pre_tax), strict=True):
            charges.append(_Charge("tax", part))

    shares = []
    for key, charges in zip(keys, per_request, strict=True):
        lines = _lines(charges)
        a, b, c, share_tax = _section_sums(lines)
        shares.append(
            Share(
                key=key,
                lines=lines,
                copy_fee=a,
                postage=b,
                other_fees=c,
                total=a + b + c,
                tax=share_tax,
            )
        )
    lines = _lines(whole)
    a, b, c, tax = _section_sums(lines)
    if a + b + c > MAX_TOTAL:
        raise TooExpensive(a + b + c)
    return Breakdown(
        lines=lines,
        copy_fee=a,
        postage=b,
        other_fees=c,
        tax=tax,
        total=a + b + c,
        shares=tuple(shares),
    )


# --- public API -------------------------------------------------------------------------


def price_copies(schedule: FeeSchedule, items: Sequence[CopyItem], *, delivery: Delivery | str = "mail") -> Breakdown:
    """Price one shipment of copy requests (see the module docstring for the formula)."""
    if delivery not in DELIVERIES:
        raise ValueError(f"unknown delivery {delivery!r}; expected one of {DELIVERIES}")
    items = list(items)
    _check_keys([item.key for item in items])
    if delivery == "fax" and not schedule.can_fax:
        raise FaxNotAvailable("the lender cannot deliver by fax")

    item_charges: list[list[_Charge]] = []
    shipment_charges: list[tuple[str, int]] = []
    for item in items:
        charges = []
        if schedule.overseas:
            charges.append(_Charge("overseas_flat", schedule.overseas_flat_fee_per_item))
            if delivery == "fax":
                charges.append(_Charge("overseas_fax", schedule.overseas_fax_surcharge))
        else:
            price = schedule.page_price(item.paper_size)
            charges.append(_Charge("copy_mono", price.mono, item.mono_pages))
            charges.append(_Charge("copy_colour", price.colour, item.colour_pages))
            if delivery == "fax" and schedule.fax_fee_mode == "per_page":
                charges.append(_Charge("fax_per_page", schedule.fax_fee_per_page, item.pages))
        charges.append(_Charge("handling", schedule.handling_fee_per_item))
        item_charges.append(charges)

    if not schedule.overseas:
        if delivery != "fax":
            shipment_charges.append(("postage", schedule.postage_per_shipment))
        elif schedule.fax_fee_mode == "fixed":
            shipment_charges.append(("fax_fixed", schedule.fax_fee_fixed))
    shipment_charges.append(("bank_transfer", schedule.bank_transfer_fee))
    if delivery == "express":
        shipment_charges.append(("express", schedule.express_surcharge))
    return _assemble(schedule, [item.key for item in items], item_charges, shipment_charges)


def price_loans(schedule: FeeSchedule, keys: Sequence[Hashable], *, express: bool = False) -> Breakdown:
    """Price one shipment of loan requests: the loan fee per item (+ express, + tax)."""
    keys = list(keys)
    _check_keys(keys)
    if schedule.loan_fee_mode == "quote":
        raise NeedsQuote("the lender quotes loans case by case")
    item_charges: list[list[_Charge]] = []
    for _ in keys:
        charges = []
        if schedule.loan_fee_mode != "free":
            charges.append(_Charge(f"loan_{schedule.loan_fee_mode}", schedule.loan_fee))
            if express:
                charges.append(_Charge("loan_express", schedule.loan_express_surcharge))
        item_charges.append(charges)
    return _assemble(schedule, keys, item_charges, [])


def estimate_copy_range(
    schedules: Iterable[FeeSchedule], item: CopyItem, *, delivery: Delivery | str = "mail"
) -> tuple[int, int]:
    """(min, max) total of a one-item shipment over the lenders that can price it."""
    totals = []
    for schedule in schedules:
        try:
            totals.append(price_copies(schedule, [item], delivery=delivery).total)
        except (FaxNotAvailable, TooExpensive):
            continue
    if not totals:
        raise ValueError(f"no lender can price this request (delivery {delivery!r})")
    return min(totals), max(totals)


def estimate_loan_range(schedules: Iterable[FeeSchedule], *, express: bool = False) -> tuple[int, int] | None:
    """(min, max) fee of a one-item loan over the lenders with a fixed price; None if all quote."""
    totals = [
        price_loans(schedule, ["estimate"], express=express).total
        for schedule in schedules
        if schedule.loan_fee_mode != "quote"
    ]
    return (min(totals), max(totals)) if totals else None


def seed_examples() -> list[tuple[str, Breakdown]]:
    """The seed's three worked examples (料金例1–3): 385, 1,400 and 525 yen."""
    return [
        (
            "料金例1: mono 35 yen/page, 2 items (7 pages), postage 140",
            price_copies(
                FeeSchedule(mono_price=35, postage_per_shipment=140),
                [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=4)],
            ),
        ),
        (
            "料金例2: mono 50, colour 200, handling 200/item, bank transfer 210, "
            "2 items (7 pages, 2 colour), postage 140",
            price_copies(
                FeeSchedule(
                    mono_price=50,
                    colour_price=200,
                    handling_fee_per_item=200,
                    bank_transfer_fee=210,
                    postage_per_shipment=140,
                ),
                [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=2, colour_pages=2)],
            ),
        ),
        (
            "料金例3: mono 35 yen/page, fax 40 yen/page, 2 items (7 pages) by fax",
            price_copies(
                FeeSchedule(mono_price=35, fax_fee_mode="per_page", fax_fee_per_page=40),
                [CopyItem(key=1, mono_pages=3), CopyItem(key=2, mono_pages=4)],
                delivery="fax",
            ),
        ),
    ]
