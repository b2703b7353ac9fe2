"""The demo's sample history (manage.py load_demo): a couple of hundred finished requests of the
current fiscal year so far and of the previous one, so that the report pages have figures.

Written with the ORM straight into their final states (the services would refuse most of them: the
patrons' limits, the duplicate rule, a budget's limit), with the dates every lifecycle step would
have left, in order: submitted < ordered < (unfilled, ordered again) < arrived < handed over <
returned < closed. Deterministic (random.Random(2026)); no e-mail is written. Every CHECK constraint
holds (public expense has a budget code, charges add up, NACSIS-ILL IDs are 12 letters and digits).
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from fees.models import (
    BudgetCode,
    BudgetLedgerEntry,
    Charge,
    Delivery,
    Shipment,
    SupportBudget,
    SupportUse,
    current_fiscal_year,
)
from ill import countcache
from ill.models import LenderCandidate, LendingInstitution, Request, RequestEvent
from ill.services.intake import next_request_number
from patrons.models import Patron

SEED = 2026
CURRENT_FY_REQUESTS = 170
PREVIOUS_FY_REQUESTS = 50

# (title, author, publisher, year, isbn)
BOOKS = [
    ("日本語の歴史", "山口仲美", "岩波書店", 2006, "9784004310181"),
    ("データ解析のための統計モデリング入門", "久保拓弥", "岩波書店", 2012, "9784000069731"),
    ("パターン認識と機械学習 上", "Bishop, C. M.", "丸善出版", 2012, "9784621061220"),
    ("深層学習", "Goodfellow, I.", "KADOKAWA", 2018, "9784048930628"),
    ("The Art of Computer Programming, Vol. 1", "Knuth, D. E.", "Addison-Wesley", 1997, "9780201896831"),
    ("Principles of Neural Science", "Kandel, E. R.", "McGraw-Hill", 2021, "9781259642234"),
    ("Robbins Basic Pathology", "Kumar, V.", "Elsevier", 2022, "9780323790185"),
    ("近代日本の思想", "丸山眞男", "岩波書店", 1961, ""),
    ("江戸の出版文化", "今田洋三", "平凡社", 2009, ""),
    ("Information Theory, Inference and Learning Algorithms", "MacKay, D.", "CUP", 2003, "9780521642989"),
    ("分子生物学講義", "田村隆明", "羊土社", 2019, ""),
    ("神奈川県史 通史編", "神奈川県", "神奈川県", 1981, ""),
    ("Medieval Manuscripts of the British Isles", "Brown, M.", "British Library", 2007, ""),
    ("海洋生態系の科学", "海洋科学研究所", "東海大学出版会", 2015, ""),
    ("計算論的神経科学", "銅谷賢治", "森北出版", 2007, ""),
]

# (journal, article, author, issn)
ARTICLES = [
    ("情報処理学会論文誌", "大規模言語モデルの評価手法", "佐々木 健", "1882-7764"),
    ("Nature", "Protein structure prediction at scale", "Jumper, J.", "0028-0836"),
    ("The Lancet", "Global burden of antimicrobial resistance", "Murray, C. J. L.", "0140-6736"),
    ("Cell", "Single-cell atlas of the human kidney", "Lake, B. B.", "0092-8674"),
    ("電子情報通信学会論文誌 D", "グラフニューラルネットワークによる推薦", "山本 亮", "1880-4535"),
    ("日本醫史學雜誌", "江戸期の蘭方医学と翻訳", "青木 歳幸", "0549-3323"),
    ("Journal of Marine Research", "Deep-sea sediment microbial communities", "Inagaki, F.", "0022-2402"),
    ("国語と国文学", "漱石初期作品の文体", "小森 陽一", "0387-3110"),
    ("IEEE Transactions on Pattern Analysis and Machine Intelligence", "Vision transformers", "Dosovitskiy, A.", ""),
    ("The New England Journal of Medicine", "A randomized trial of early rhythm control", "Kirchhof, P.", ""),
    ("図書館界", "大学図書館における ILL 業務の変化", "中村 由美", "0040-9650"),
    ("Philosophical Transactions of the Royal Society A", "Eighteenth-century tide tables", "Woodworth, P.", ""),
]

UNFILLED_REASONS = [
    LenderCandidate.UnfilledReason.ON_LOAN,
    LenderCandidate.UnfilledReason.ON_LOAN,
    LenderCandidate.UnfilledReason.NOT_HELD,
    LenderCandidate.UnfilledReason.NOT_FOR_LOAN,
    LenderCandidate.UnfilledReason.MISSING,
    LenderCandidate.UnfilledReason.AT_BINDERY,
    LenderCandidate.UnfilledReason.CONDITIONS,
]
REJECT_REASONS = [
    Request.RejectReason.HELD_LOCALLY,
    Request.RejectReason.ELECTRONIC,
    Request.RejectReason.DUPLICATE,
    Request.RejectReason.INCOMPLETE,
]
STUDENTS = (
    Patron.Category.UNDERGRADUATE,
    Patron.Category.UNDERGRADUATE_FINAL,
    Patron.Category.MASTERS,
    Patron.Category.DOCTORAL,
)

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)


def has_history() -> bool:
    """The history was loaded (or the database has requests of earlier days of its own)."""
    today = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
    return Request.objects.filter(submitted_at__lt=today).exists()


class _History:
    def __init__(self, staff):
        self.rng = random.Random(SEED)
        self.staff = staff
        self.today = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
        self.fy = current_fiscal_year()
        self.lenders = {lender.code: lender for lender in LendingInstitution.objects.select_related("fee_schedule")}
        self.patrons = list(Patron.objects.select_related("user", "home_branch", "laboratory").order_by("pk"))
        self.codes = {}  # (fiscal year, kind) -> BudgetCode
        self.support = {}  # fiscal year -> SupportBudget
        self.members = {}  # fiscal year -> the grant's members (patron pks)
        self.spent = {}  # budget code pk -> yen charged so far
        self.supported = {}  # (fiscal year, patron pk) -> requests charged to the support budget
        self.nacsis = 0
        self.rows = []  # (request, candidates, events, charge or None, shipment or None)

    # Budgets ----------------------------------------------------------------------------------

    def _budgets(self, fy: int):
        if fy in self.support:
            return
        current = {c.code: c for c in BudgetCode.objects.filter(fiscal_year=self.fy)}
        for code in ("2026-ENG-0301", "KAKENHI-24K01234"):
            template = current[code]
            found, _ = BudgetCode.objects.get_or_create(
                code=code,
                fiscal_year=fy,
                defaults={
                    "name": template.name,
                    "kind": template.kind,
                    "responsible": template.responsible,
                    "laboratory": template.laboratory,
                    "limit": template.limit,
                },
            )
            if fy != self.fy:
                found.members.set(template.members.all())
            self.codes[fy, found.kind] = found
            if found.kind == "grant":
                self.members[fy] = set(template.members.values_list("pk", flat=True))
        self.support[fy], _ = SupportBudget.objects.get_or_create(
            fiscal_year=fy, defaults={"total": 300000, "per_student_cap": 5, "is_open": fy == self.fy}
        )

    def _payment(self, fy: int, patron, lender, total: int):
        """(expense type, payment class, budget code, support budget) for a supplied request."""
        rng = self.rng
        public, grant = self.codes[fy, "public"], self.codes[fy, "grant"]
        lab = patron.laboratory_id
        options = []
        if lender.accepts_public_expense and lab is not None and lab == public.laboratory_id:
            options += [("public", public)] * 3
        if lender.accepts_public_expense and patron.pk in self.members[fy]:
            options += [("grant", grant)] * 2
        supported = self.supported.get((fy, patron.pk), 0)
        if lender.qualifies_for_support and patron.category in STUDENTS and supported < 5:
            options += [("support", None)] * 2
        options += [("private", None)] * 2
        choice, code = rng.choice(options)
        if code is not None and self.spent.get(code.pk, 0) + total > (code.limit or 0) * 0.9:
            choice, code = "private", None  # the code is (nearly) spent: the patron pays
        if choice == "support":
            self.supported[fy, patron.pk] = self.supported.get((fy, patron.pk), 0) + 1
            return "private", "support", None, self.support[fy]
        if code is not None:
            self.spent[code.pk] = self.spent.get(code.pk, 0) + total
            return choice, choice, code, None
        return "private", "private", None, None

    # One request --------------------------------------------------------------------------------

    def _moment(self, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
        """A weekday office hour between start and end."""
        days = max(1, (end - start).days)
        day = start + self.rng.randrange(days) * D
        while timezone.localtime(day).weekday() >= 5:
            day -= D
        local = timezone.localtime(day).replace(hour=self.rng.randint(9, 16), minute=self.rng.randrange(60))
        return max(local, start)

    def _lenders_for(self, kind: str, overseas: bool) -> list:
        L = self.lenders
        if overseas:
            return [L["BL"]]
        order = ["FA004321", "NDL", "KLNET", "MSI-LIB"] if kind == "loan" else ["FA004321", "MSI-LIB", "NDL", "KLNET"]
        first = self.rng.choice(order[:3])
        return [L[first]] + [L[c] for c in order if c != first]

    def _charge_parts(self, request, lender, delivery: str) -> tuple[int, int, int, int]:
        """(copy fee A, postage B, other fees C, return postage) roughly as the lender's schedule has it."""
        schedule = getattr(lender, "fee_schedule", None)
        if lender.kind == LendingInstitution.Kind.OVERSEAS:
            extra = 500 if delivery == Delivery.FAX else 0
            return 0, 0, (1800 if request.kind == "copy" else 3200) + extra, 0
        if request.kind == "copy":
            mono = schedule.mono_price if schedule else 30
            fee = request.page_count * mono
            other = (schedule.handling_fee_per_item + schedule.bank_transfer_fee) if schedule else 0
            postage = 0 if delivery == Delivery.FAX else (schedule.postage_per_shipment if schedule else 140)
            if delivery == Delivery.FAX and schedule and schedule.fax_fee_per_page:
                postage = schedule.fax_fee_per_page * request.page_count
            return fee, postage, other, 0
        mode = schedule.loan_fee_mode if schedule else "free"
        if mode == "round_trip":
            return 0, schedule.loan_fee, 0, schedule.loan_fee // 2
        if mode == "return_only":
            return 0, schedule.loan_fee, 0, schedule.loan_fee
        if mode == "quote":
            return 0, 1200, 500, 600
        return 0, 0, 0, 0  # KL-NET lends free

    def _nacsis_id(self, fy: int) -> str:
        self.nacsis += 1
        return f"FA{fy % 100:02d}{50000000 + self.nacsis:08d}"  # 12 characters, never the samples' (…AA)

    def plan(self, fy: int, start: datetime.datetime, end: datetime.datetime):
        rng = self.rng
        self._budgets(fy)
        submitted_at = self._moment(start, end)
        patron = rng.choice(self.patrons)
        kind = "loan" if rng.random() < 0.55 else "copy"
        overseas = rng.random() < 0.08
        request = Request(
            patron=patron,
            created_by=patron.user,
            kind=kind,
            pickup_branch=patron.home_branch,
            scope=Request.Scope.OVERSEAS if overseas else Request.Scope.DOMESTIC,
        )
        if kind == "loan":
            title, author, publisher, year, isbn = rng.choice(BOOKS)
            request.title, request.author, request.publisher, request.pub_year, request.isbn = (
                title,
                author,
                publisher,
                year,
                isbn,
            )
        else:
            journal, article, author, issn = rng.choice(ARTICLES)
            request.material_type = Request.MaterialType.ARTICLE
            request.title = request.journal_title = journal
            request.article_title, request.article_author, request.issn = article, author, issn
            request.volume, request.issue = str(rng.randint(10, 80)), str(rng.randint(1, 12))
            first = rng.randint(1, 400)
            request.page_count = rng.randint(4, 24)
            request.pages = f"{first}-{first + request.page_count - 1}"
            request.pub_year = rng.randint(1995, 2025)
            request.copyright_accepted = True
            request.delivery_method = Delivery.FAX if rng.random() < 0.2 else Delivery.MAIL

        events = [("submit", "", "submitted", submitted_at, patron.user)]
        candidates = []
        outcome = rng.random()
        if outcome < 0.06:  # rejected by staff after a look
            request.status, request.reject_reason = "rejected", rng.choice(REJECT_REASONS)
            request.reviewed_at = request.closed_at = submitted_at + rng.randint(2, 30) * H
            events.append(("reject", "submitted", "rejected", request.closed_at, self.staff))
            return self._finish(fy, request, candidates, events, None, end)
        if outcome < 0.09:  # cancelled by the patron before it was ordered
            request.status, request.closed_at = "cancelled", submitted_at + rng.randint(1, 20) * H
            events.append(("cancel", "submitted", "cancelled", request.closed_at, patron.user))
            return self._finish(fy, request, candidates, events, None, end)

        lenders = self._lenders_for(kind, overseas)
        roll = rng.random()
        unfilled = 2 if roll < 0.08 else 1 if roll < 0.3 else 0
        never_filled = outcome < 0.13 and not overseas
        hops = len(lenders) if never_filled else min(unfilled, len(lenders) - 1)
        if overseas:
            hops = 0
        asked = lenders[: hops + (0 if never_filled else 1)]
        moment = request.reviewed_at = submitted_at + rng.randint(1, 26) * H
        request.ordered_at = moment
        status = "submitted"
        for position, lender in enumerate(asked, start=1):
            candidate = LenderCandidate(position=position, lender=lender, state="ordered", ordered_at=moment)
            events.append(("order", status, "ordered", moment, self.staff))
            if position <= hops:
                moment = moment + rng.randint(1, 5) * D + rng.randint(0, 5) * H
                candidate.state, candidate.answered_at = "unfilled", moment
                candidate.unfilled_reason = rng.choice(UNFILLED_REASONS)
                events.append(("mark_unfilled", "ordered", "unfilled", moment, self.staff))
                status = "unfilled"
                moment = moment + rng.randint(1, 20) * H
            candidates.append(candidate)
        request.lender = asked[-1]
        if rng.random() < 0.3:
            request.lender_reference = f"{asked[-1].code[:4]}-{fy}-{rng.randint(1000, 9999)}"
        if any(lender.nacsis_participant_id for lender in asked) and rng.random() < 0.75:
            request.nacsis_ill_id = self._nacsis_id(fy)

        if never_filled:
            request.status, request.close_reason = "closed", Request.CloseReason.UNFILLED
            request.closed_at = moment
            events.append(("close_unfilled", "unfilled", "closed", moment, self.staff))
            return self._finish(fy, request, candidates, events, None, end)

        filled = candidates[-1]
        if overseas:
            wait = rng.randint(10, 30) * D
        elif kind == "copy" and request.delivery_method == Delivery.FAX:
            wait = rng.randint(1, 3) * D
        else:
            wait = rng.randint(2, 12) * D
        request.arrived_at = moment + wait + rng.randint(0, 6) * H
        filled.state, filled.answered_at = "filled", request.arrived_at
        request.notified_at = request.arrived_at + rng.randint(5, 60) * datetime.timedelta(minutes=1)
        events.append(("record_arrival", "ordered", "arrived", request.arrived_at, self.staff))
        request.handed_over_at = request.arrived_at + rng.randint(1, 6) * D + rng.randint(0, 5) * H
        if kind == "copy":
            request.status, request.close_reason = "handed_over", Request.CloseReason.COMPLETED
            request.closed_at = request.handed_over_at
            events.append(("hand_over", "arrived", "handed_over", request.handed_over_at, self.staff))
        else:
            lender_due = timezone.localtime(request.arrived_at).date() + request.lender.loan_period_days * D
            request.lender_due_date, request.due_date = lender_due, lender_due - 3 * D
            request.returned_at = request.handed_over_at + rng.randint(3, 9) * D + rng.randint(0, 5) * H
            request.closed_at = request.returned_at + rng.randint(1, 40) * H
            request.status, request.close_reason = "closed", Request.CloseReason.SENT_BACK
            events += [
                ("hand_over", "arrived", "on_loan", request.handed_over_at, self.staff),
                ("return_by_patron", "on_loan", "returned", request.returned_at, self.staff),
                ("send_back", "returned", "closed", request.closed_at, self.staff),
            ]
        delivery = request.delivery_method if kind == "copy" else Delivery.MAIL
        fee, postage, other, return_postage = self._charge_parts(request, request.lender, delivery)
        total = fee + postage + other
        charge = None
        if total:
            expense, payment_class, code, support = self._payment(fy, patron, request.lender, total)
            request.expense_type, request.budget_code, request.support_budget = expense, code, support
            settled = payment_class in ("public", "grant", "support")
            charge = Charge(
                payment_class=payment_class,
                budget_code=code,
                copy_fee=fee,
                postage=postage,
                other_fees=other,
                return_postage=return_postage,
                computed_total=total,
                total=total,
                state=Charge.State.SETTLED if settled else Charge.State.PAID,
                accepted_at=None if settled else request.arrived_at,
                created_at=request.arrived_at,
                created_by=self.staff,
            )
        shipment = Shipment(
            lender=request.lender,
            delivery_method=delivery,
            total=total,
            received_at=request.arrived_at,
            recorded_by=self.staff,
        )
        return self._finish(fy, request, candidates, events, charge, end, shipment)

    def _finish(self, fy, request, candidates, events, charge, end, shipment=None):
        """Keep the request if its last step is before today, moving it back whole if needed."""
        last = max(e[3] for e in events)
        limit = min(end, self.today) - H
        if last > limit:
            shift = last - limit + self.rng.randint(1, 48) * H
            for name in (
                "submitted_at",
                "reviewed_at",
                "ordered_at",
                "arrived_at",
                "notified_at",
                "handed_over_at",
                "returned_at",
                "closed_at",
            ):
                if getattr(request, name) is not None:
                    setattr(request, name, getattr(request, name) - shift)
            if request.lender_due_date is not None:
                request.lender_due_date -= datetime.timedelta(days=shift.days + 1)
                request.due_date -= datetime.timedelta(days=shift.days + 1)
            for candidate in candidates:
                candidate.ordered_at = candidate.ordered_at and candidate.ordered_at - shift
                candidate.answered_at = candidate.answered_at and candidate.answered_at - shift
            events = [(a, f, t, when - shift, actor) for a, f, t, when, actor in events]
            if charge is not None:
                charge.created_at -= shift
                charge.accepted_at = charge.accepted_at and charge.accepted_at - shift
            if shipment is not None:
                shipment.received_at -= shift
        request.submitted_at = events[0][3]
        request.number = next_request_number(timezone.localtime(request.submitted_at).date())
        self.rows.append((request, candidates, events, charge, shipment))

    # All of it ----------------------------------------------------------------------------------

    def build(self) -> int:
        fy = self.fy
        this_start = timezone.make_aware(datetime.datetime(fy, 4, 1, 9))
        previous_start = timezone.make_aware(datetime.datetime(fy - 1, 4, 1, 9))
        for _ in range(PREVIOUS_FY_REQUESTS):
            self.plan(fy - 1, previous_start, this_start - 15 * H)
        if this_start < self.today - D:
            for _ in range(CURRENT_FY_REQUESTS):
                self.plan(fy, this_start, self.today - 15 * H)
        self._save()
        return len(self.rows)

    def _save(self):
        Request.objects.bulk_create([row[0] for row in self.rows], batch_size=500)
        candidates, events, charges, shipments, ledger, uses = [], [], [], [], [], []
        for request, request_candidates, request_events, _charge, shipment in self.rows:
            for candidate in request_candidates:
                candidate.request = request
                candidates.append(candidate)
            for action, from_status, to_status, when, actor in request_events:
                events.append(
                    RequestEvent(
                        request=request,
                        action=action,
                        from_status=from_status,
                        to_status=to_status,
                        actor=actor,
                        created_at=when,
                    )
                )
            if shipment is not None:
                shipments.append(shipment)
        Shipment.objects.bulk_create(shipments, batch_size=500)
        for request, _candidates, _events, charge, shipment in self.rows:
            if charge is None:
                continue
            charge.request, charge.shipment = request, shipment
            charges.append(charge)
            if charge.budget_code is not None:
                ledger.append(
                    BudgetLedgerEntry(
                        budget_code=charge.budget_code,
                        request=request,
                        entry_type=BudgetLedgerEntry.EntryType.CHARGE,
                        amount=charge.total,
                        created_by=self.staff,
                        created_at=charge.created_at,
                    )
                )
            if request.support_budget is not None:
                uses.append(
                    SupportUse(
                        budget=request.support_budget,
                        request=request,
                        patron=request.patron,
                        state=SupportUse.State.CHARGED,
                        amount=charge.total,
                        created_at=request.submitted_at,
                    )
                )
        LenderCandidate.objects.bulk_create(candidates, batch_size=500)
        RequestEvent.objects.bulk_create(events, batch_size=1000)
        Charge.objects.bulk_create(charges, batch_size=500)
        BudgetLedgerEntry.objects.bulk_create(ledger, batch_size=500)
        SupportUse.objects.bulk_create(uses, batch_size=500)


def load_history(staff) -> int:
    """Create the sample history once (see the module's docstring); returns how many requests."""
    if has_history():
        return 0
    with transaction.atomic():
        created = _History(staff).build()
        countcache.counts_changed()
    return created
