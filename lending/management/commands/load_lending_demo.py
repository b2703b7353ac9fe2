"""Load the lending half of the demo (DESIGN.md §11): three libraries that borrow from us with their
terms (a fee-offset participant, a library we invoice, an overseas one), our fee schedule, a few of our
holdings, and nine incoming requests in different states — every one moved by `lending.services`, as
the desk would. Safe to run again: a request already there (by its demo number) is left as it is.
`make run` calls it after `load_demo`."""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from ill.models import LendingInstitution, LocalHolding, LocalHoldingIdentifier
from lending import money, services
from lending.models import BorrowerTerms, LendingRequest

# Our prices as a lender (tax included): 30 yen a page, 80 in colour, postage 140, FAX 40 a page;
# overseas 2,000 yen a copy; a loan 1,500 yen (postage both ways).
SCHEDULE = {
    "mono_price": 30,
    "colour_price": 80,
    "postage_per_shipment": 140,
    "express_surcharge": 260,
    "fax_fee_mode": "per_page",
    "fax_fee_per_page": 40,
    "tax_included": True,
    "tax_rate_percent": 10,
    "overseas_flat_fee_per_item": 2000,
    "overseas_fax_surcharge": 500,
    "loan_fee_mode": "round_trip",
    "loan_fee": 1500,
    "loan_express_surcharge": 600,
    "notes": "デモ用の料金表 / demo prices",
}

# (code, library defaults, terms): the offset participant is the demo's Toto University (it lends to
# us too); the two others only borrow from us.
BORROWERS = [
    (
        "FA004321",
        {
            "name": "東都大学附属図書館",
            "name_en": "Toto University Library",
            "kind": LendingInstitution.Kind.JAPANESE_UNIVERSITY,
            "is_offset_participant": True,
        },
        {"payment_terms_days": 30, "billing_contact": "", "billing_address": "", "notes": "料金相殺で精算"},
    ),
    (
        "FA008765",
        {
            "name": "桜丘女子大学図書館",
            "name_en": "Sakuragaoka Women's University Library",
            "kind": LendingInstitution.Kind.JAPANESE_UNIVERSITY,
            "is_offset_participant": False,
            "accepts_public_expense": False,
            "contact_name": "図書館 相互貸借係",
            "email": "ill@lib.sakuragaoka.example.ac.jp",
            "phone": "03-0000-8765",
            "address": "東京都世田谷区桜丘9-9-9",
        },
        {
            "payment_terms_days": 45,
            "billing_contact": "会計課 支払担当",
            "billing_email": "kaikei@sakuragaoka.example.ac.jp",
            "billing_address": "〒156-0000 東京都世田谷区桜丘9-9-9 桜丘女子大学 会計課",
        },
    ),
    (
        "US-CAX",
        {
            "name": "カリフォルニア工科大学図書館(デモ)",
            "name_en": "Pacific Institute of Technology Library (demo)",
            "kind": LendingInstitution.Kind.OVERSEAS,
            "country": "US",
            "is_offset_participant": False,
            "accepts_public_expense": False,
            "contact_name": "Interlibrary Services",
            "email": "ill@library.pacific-tech.example.edu",
            "address": "1200 Example Blvd, Pasadena, CA, USA",
            "isil": "US-CAX",
        },
        {
            "payment_terms_days": 60,
            "billing_contact": "Accounts Payable, Library",
            "billing_email": "library-ap@pacific-tech.example.edu",
            "billing_address": "Accounts Payable, Library, 1200 Example Blvd, Pasadena, CA, USA",
        },
    ),
]

# Our holdings that the requests below find (source id, title, call number, location, scheme, identifier).
HOLDINGS = [
    ("LEND0001", "統計学入門", "417/To", "書庫2F", "isbn", "9784130420655"),
    ("LEND0002", "日本化学会誌", "P/540/N", "雑誌書庫1F", "issn", "0369-4577"),
    ("LEND0003", "Journal of the Physical Society of Japan", "P/420/J", "雑誌書庫2F", "issn", "0031-9015"),
    ("LEND0004", "日本の近代建築 上", "523.1/F/1", "開架3F", "isbn", "9784004302681"),
    ("LEND0005", "Principles of Neural Science", "491.371/K", "医学図書館 開架", "isbn", "9781259642234"),
    ("LEND0006", "日本の庭園", "629.21/N", "開架3F", "isbn", "9784004312345"),
]

COPY = "copy"
LOAN = "loan"

# Each demo request: their number (what makes the command idempotent), borrower, kind, how it came,
# the citation, and how far the desk has taken it.
REQUESTS = [
    (
        "DEMO-TT-0001",
        "FA004321",
        COPY,
        "nacsis",
        {
            "title": "日本化学会誌",
            "journal_title": "日本化学会誌",
            "article_title": "金属錯体触媒による選択的酸化反応",
            "article_author": "山本 健",
            "issn": "0369-4577",
            "volume": "2019",
            "issue": "4",
            "pages": "201-212",
            "page_count": 12,
            "material_type": "article",
            "periodical_frequency": "monthly",
            "issue_date": datetime.date(2019, 4, 10),
            "patron_reference": "東都大 院生 T-1021",
            "nacsis_ill_id": "CA12345678",
        },
        "received",
    ),
    (
        "SKR-2026-031",
        "FA008765",
        LOAN,
        "email",
        {"title": "統計学入門", "author": "東京大学教養学部統計学教室", "isbn": "9784130420655", "pub_year": 1991},
        "searching",
    ),
    (
        "DEMO-TT-0002",
        "FA004321",
        LOAN,
        "nacsis",
        {"title": "日本の近代建築 上", "author": "藤森照信", "isbn": "9784004302681", "pub_year": 1993},
        "will_supply",
    ),
    (
        "SKR-2026-032",
        "FA008765",
        COPY,
        "fax",
        {
            "title": "Journal of the Physical Society of Japan",
            "journal_title": "Journal of the Physical Society of Japan",
            "article_title": "Spin dynamics in frustrated magnets",
            "issn": "0031-9015",
            "volume": "88",
            "issue": "3",
            "pages": "034701",
            "page_count": 9,
            "material_type": "article",
            "periodical_frequency": "monthly",
            "issue_date": datetime.date(2019, 3, 15),
            "patron_reference": "Sakuragaoka faculty K. Ito",
        },
        "copying",
    ),
    (
        "CAX-88120",
        "US-CAX",
        COPY,
        "email",
        {
            "title": "Journal of the Physical Society of Japan",
            "journal_title": "Journal of the Physical Society of Japan",
            "article_title": "Superconductivity in layered nitrides",
            "issn": "0031-9015",
            "volume": "80",
            "pages": "011001",
            "page_count": 14,
            "material_type": "article",
            "periodical_frequency": "monthly",
            "issue_date": datetime.date(2011, 1, 1),
            "patron_reference": "PIT researcher 55",
            "delivery_method": "fax",
        },
        "invoiced",
    ),
    (
        "DEMO-TT-0003",
        "FA004321",
        LOAN,
        "nacsis",
        {"title": "Principles of Neural Science", "author": "Kandel, Eric R.", "isbn": "9781259642234"},
        "overdue",
    ),
    (
        "SKR-2026-029",
        "FA008765",
        LOAN,
        "email",
        {"title": "吾輩は猫である", "author": "夏目漱石", "isbn": "9784101010014"},
        "renewal",
    ),
    (
        "DEMO-TT-0004",
        "FA004321",
        COPY,
        "nacsis",
        {
            "title": "材料科学紀要",
            "article_title": "高温における合金の疲労",
            "pages": "33-40",
            "page_count": 8,
            "material_type": "article",
            "periodical_frequency": "quarterly",
            "issue_date": datetime.date(2015, 6, 1),
        },
        "unfilled",
    ),
    (
        "CAX-88131",
        "US-CAX",
        LOAN,
        "email",
        {"title": "日本の庭園", "author": "進士五十八", "isbn": "9784004312345"},
        "returned",
    ),
]


class Command(BaseCommand):
    help = "Load (or refresh) the lending demo: borrowing libraries and their terms, our fees, holdings, requests."

    def handle(self, *args, **options):
        with transaction.atomic():
            staff = get_user_model().objects.filter(username="staff").first()
            self._schedule()
            libraries = self._borrowers()
            self._holdings()
            made = sum(self._request(spec, libraries, staff) for spec in REQUESTS)
        self.stdout.write(
            self.style.SUCCESS(f"Lending demo: {len(libraries)} borrowing libraries, {made} new incoming requests.")
        )

    def _schedule(self):
        schedule = money.current_schedule()
        for name, value in SCHEDULE.items():
            setattr(schedule, name, value)
        schedule.full_clean()
        schedule.save()

    def _borrowers(self) -> dict:
        libraries = {}
        for code, defaults, terms in BORROWERS:
            library, created = LendingInstitution.objects.get_or_create(code=code, defaults=defaults)
            if not created:  # the demo's own fields only; what load_demo set for a lender stays
                for name in ("is_offset_participant", "kind"):
                    setattr(library, name, defaults[name])
                library.save(update_fields=["is_offset_participant", "kind"])
            BorrowerTerms.objects.update_or_create(library=library, defaults=terms)
            libraries[code] = library
        return libraries

    def _holdings(self):
        for source_id, title, call_number, location, scheme, value in HOLDINGS:
            holding, _ = LocalHolding.objects.update_or_create(
                source_id=source_id, defaults={"title": title, "call_number": call_number, "location": location}
            )
            LocalHoldingIdentifier.objects.get_or_create(holding=holding, scheme=scheme, value=value)

    def _request(self, spec, libraries, staff) -> int:
        reference, code, kind, source, fields, stage = spec
        borrower = libraries[code]
        if LendingRequest.objects.filter(borrower=borrower, their_reference=reference).exists():
            return 0
        item = services.receive(
            borrower=borrower, kind=kind, source=source, actor=staff, their_reference=reference, **fields
        )
        today = timezone.localdate()
        if stage == "received":
            return 1
        if stage == "unfilled":
            services.search(item, actor=staff)
            services.mark_unfilled(item, actor=staff, reason="not_held", note="当館では所蔵していません。")
            return 1
        if stage == "searching":
            services.search(item, actor=staff)
            return 1
        services.will_supply(item, actor=staff)
        if stage == "will_supply":
            return 1
        if kind == COPY:
            services.start_copying(item, actor=staff)
            if stage == "copying":
                return 1
            services.ship(item, actor=staff, shipping_method=item.delivery_method)
            services.complete(item, actor=staff)
            services.issue_invoice(borrower, [item.charge], actor=staff)
            return 1
        services.ship(item, actor=staff, shipping_method="mail", due_date=today + datetime.timedelta(days=30))
        services.mark_received(item, actor=staff)
        if stage == "renewal":
            services.ask_renewal(
                item, wanted_until=today + datetime.timedelta(days=44), note="もう2週間お借りしたいです。"
            )
        elif stage == "returned":
            services.record_return(item, actor=staff)
        elif stage == "overdue":
            # As if lent five weeks ago: only the dates move back (the status is the services' own).
            LendingRequest.objects.filter(pk=item.pk).update(
                due_date=today - datetime.timedelta(days=5),
                shipped_at=timezone.now() - datetime.timedelta(days=35),
                received_at=timezone.now() - datetime.timedelta(days=38),
            )
        return 1
