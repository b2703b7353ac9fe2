"""Load demo data: branches, the seeds' lenders and fee schedules, patrons of every category,
budget codes, the student support budget, a staff user and an admin, a few sample requests and a
sample history of finished requests for the reports (ill.demo_history). Safe to run again."""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from fees.models import BudgetCode, FeeSchedule, PaperSizePrice, SupportBudget, current_fiscal_year
from ill import demo_history, rules, services
from ill.models import LendingInstitution, LocalHolding, LocalHoldingIdentifier, Request
from notifications.models import OutboxMessage
from patrons.models import Branch, Laboratory, OpeningHours, Patron, StaffMember
from patrons.roles import ensure_roles

PATRON_PASSWORD = "ill-demo-2026"
STAFF_PASSWORD = "ill-staff-2026"
ADMIN_PASSWORD = "ill-admin-2026"

BRANCHES = [
    {
        "code": "central",
        "name": "中央図書館",
        "name_en": "Central Library",
        "counter": "1階 資料サービスカウンター",
        "counter_en": "Circulation counter, 1st floor",
        "campus": "本町キャンパス",
        "phone": "0857-31-5672",
        "email": "ill-central@library.example.ac.jp",
        "hours_note": "試験期間は平日22:00まで開館。年末年始は休館。",
        "hours_note_en": "Open until 22:00 on weekdays during exams. Closed over the New Year holidays.",
        "hours": [
            (0, "08:45", "21:00"),
            (1, "08:45", "21:00"),
            (2, "08:45", "21:00"),
            (3, "08:45", "21:00"),
            (4, "08:45", "21:00"),
            (5, "10:00", "17:00"),
            (6, "10:00", "17:00"),
        ],
    },
    {
        "code": "medical",
        "name": "医学図書館",
        "name_en": "Medical Library",
        "counter": "2階 医学情報カウンター",
        "counter_en": "Medical information counter, 2nd floor",
        "campus": "西町キャンパス(医学部)",
        "phone": "0859-38-6462",
        "email": "ill-medical@library.example.ac.jp",
        "hours_note": "",
        "hours_note_en": "",
        "hours": [
            (0, "09:00", "21:00"),
            (1, "09:00", "21:00"),
            (2, "09:00", "21:00"),
            (3, "09:00", "21:00"),
            (4, "09:00", "21:00"),
            (5, "10:00", "17:00"),
        ],
    },
]

# The seeds' lenders (seed 000: loan figures; seed 004: the copy fee examples).
LENDERS = [
    {
        "code": "FA004321",
        "name": "東都大学附属図書館",
        "name_en": "Toto University Library",
        "kind": LendingInstitution.Kind.JAPANESE_UNIVERSITY,
        "is_offset_participant": True,
        "nacsis_participant_id": "FA004321",  # fictitious, as every demo identifier
        "offset_member_number": "0000004321",
        "accepts_public_expense": True,
        "supports_express": True,
        "supports_fax": True,
        "loan_period_days": 14,
        "email": "ill@lib.toto-u.example.ac.jp",
        "phone": "03-0000-1234",
        # seed 004 examples 1 and 3: 35 yen a page, postage 140, FAX 40 yen a page; seed 000: ¥1,600 round trip
        "schedule": {
            "mono_price": 35,
            "colour_price": 100,
            "postage_per_shipment": 140,
            "express_surcharge": 260,
            "fax_fee_mode": "per_page",
            "fax_fee_per_page": 40,
            "loan_fee_mode": "round_trip",
            "loan_fee": 1600,
            "loan_express_surcharge": 600,
        },
        "paper": [("A3", 70, 200)],
    },
    {
        "code": "NDL",
        "name": "国立国会図書館",
        "name_en": "National Diet Library",
        "kind": LendingInstitution.Kind.NDL,
        "is_offset_participant": True,
        "nacsis_participant_id": "FA019771",
        "offset_member_number": "0000019771",
        "accepts_public_expense": True,
        "supports_express": True,
        "supports_fax": False,
        "loan_period_days": 14,
        "email": "ill@ndl.example.go.jp",
        # seed 000: about ¥800, return postage only
        "schedule": {
            "mono_price": 25,
            "colour_price": 80,
            "postage_per_shipment": 180,
            "express_surcharge": 300,
            "loan_fee_mode": "return_only",
            "loan_fee": 800,
        },
    },
    {
        "code": "KLNET",
        "name": "神奈川県図書館ネットワーク(KL-NET)",
        "name_en": "KL-NET (libraries in Kanagawa Prefecture)",
        "kind": LendingInstitution.Kind.REGIONAL_NETWORK,
        "is_offset_participant": True,
        "accepts_public_expense": True,
        "supports_express": False,
        "supports_fax": False,
        "loan_period_days": 14,
        # seed 000: free
        "schedule": {"mono_price": 20, "colour_price": 50, "postage_per_shipment": 140, "loan_fee_mode": "free"},
    },
    {
        "code": "MSI-LIB",
        "name": "海洋科学研究所 図書室",
        "name_en": "Marine Science Institute Library",
        "kind": LendingInstitution.Kind.RESEARCH_INSTITUTION,
        "is_offset_participant": False,
        "accepts_public_expense": False,
        "supports_express": True,
        "supports_fax": False,
        "loan_period_days": 14,
        "payment_methods": "銀行振込(前払い) / bank transfer in advance",
        # seed 004 example 2: mono 50, colour 200, handling 200 per item, bank transfer 210, postage 140
        "schedule": {
            "mono_price": 50,
            "colour_price": 200,
            "handling_fee_per_item": 200,
            "bank_transfer_fee": 210,
            "postage_per_shipment": 140,
            "express_surcharge": 260,
            "loan_fee_mode": "quote",
        },
    },
    {
        "code": "BL",
        "name": "英国図書館",
        "name_en": "The British Library",
        "country": "GB",
        "kind": LendingInstitution.Kind.OVERSEAS,
        "is_offset_participant": True,
        "accepts_public_expense": True,
        "supports_express": False,
        "supports_fax": True,
        "loan_period_days": 21,
        # seed 004: overseas about ¥1,500–2,000 per item, FAX +¥500
        "schedule": {"overseas_flat_fee_per_item": 1800, "overseas_fax_surcharge": 500, "loan_fee_mode": "quote"},
    },
]

LABS = [
    {
        "key": "info",
        "code": "info",  # how the registrar's list names it (manage.py import_patrons)
        "name": "情報工学研究室",
        "name_en": "Information Engineering Lab",
        "department": "工学部 / Engineering",
        "campus_mail_address": "工学部棟 3F 301",
    },
    {
        "key": "med",
        "code": "med",  # how the registrar's list names it (manage.py import_patrons)
        "name": "分子医学研究室",
        "name_en": "Molecular Medicine Lab",
        "department": "医学部 / Medicine",
        "campus_mail_address": "医学部棟 5F 512",
    },
]

PATRONS = [
    # (username, number, name, kana, category, lab, branch, language)
    ("u2301001", "U2301001", "佐藤 花子", "サトウ ハナコ", Patron.Category.UNDERGRADUATE, None, "central", "ja"),
    (
        "u2001002",
        "U2001002",
        "鈴木 一郎",
        "スズキ イチロウ",
        Patron.Category.UNDERGRADUATE_FINAL,
        "info",
        "central",
        "ja",
    ),
    ("m2501003", "M2501003", "高橋 美咲", "タカハシ ミサキ", Patron.Category.MASTERS, "info", "central", "ja"),
    ("d2401004", "D2401004", "Chen Wei", "チェン ウェイ", Patron.Category.DOCTORAL, "med", "medical", "en"),
    ("f0001005", "F0001005", "田中 誠", "タナカ マコト", Patron.Category.FACULTY, "info", "central", "ja"),
    ("s0001006", "S0001006", "伊藤 由紀", "イトウ ユキ", Patron.Category.STAFF, None, "medical", "ja"),
]

HOLDINGS = [
    ("BIB000001", "吾輩は猫である", "夏目漱石", "913.6/N", ["9784101010014"], "available"),
    ("BIB000002", "Introduction to Algorithms", "Cormen, Thomas H.", "007.64/C", ["9780262046305"], "on_loan"),
    ("BIB000003", "Nature", "", "P/NAT", [], "available"),
]


class Command(BaseCommand):
    help = "Load (or refresh) the demo library: branches, lenders, fee schedules, patrons, staff and an admin."

    def add_arguments(self, parser):
        parser.add_argument("--no-samples", action="store_true", help="Do not create sample requests.")

    def handle(self, *args, **options):
        with transaction.atomic():
            staff = self._library()
        if not options["no_samples"] and not Request.objects.exists():
            # Outside the transaction above: each service commits, so its e-mail is sent (to
            # nowhere) inside the override rather than after it.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                self._samples(Patron.objects.in_bulk(field_name="patron_number"), staff)
            # Those e-mails went nowhere: the desk must not say the patrons were told. The samples
            # keep no outbox rows and no "patron notified", so "Send the arrival notice" on the
            # desk really sends one (printed in the terminal under make run).
            OutboxMessage.objects.filter(request__isnull=False).delete()
            Request.objects.filter(notified_at__isnull=False).update(notified_at=None)
        history = 0 if options["no_samples"] else demo_history.load_history(staff)
        if history:
            self.stdout.write(f"Sample history: {history} finished requests of this fiscal year and the last.")
        # The report pages' monthly figures (reports.rollup), by name: ill does not import reports. The
        # history's dates were set in the past, so its months are rebuilt whole.
        call_command("rollup_reports", rebuild=bool(history), stdout=self.stdout)
        self._print_logins()

    def _library(self):
        staff_group, admin_group = ensure_roles()
        branches = self._branches()
        self._lenders()
        labs = {
            spec["key"]: Laboratory.objects.update_or_create(
                name=spec["name"], defaults={k: v for k, v in spec.items() if k not in ("key", "name")}
            )[0]
            for spec in LABS
        }
        patrons = self._patrons(branches, labs)
        labs["info"].supervisor = patrons["f0001005"]
        labs["info"].save()
        self._budgets(patrons, labs)
        self._holdings(branches)
        User = get_user_model()
        staff, _ = User.objects.update_or_create(
            username="staff",
            defaults={
                "email": "staff@library.example.ac.jp",
                "first_name": "Circulation",
                "last_name": "Staff",
                "is_staff": True,
            },
        )
        staff.set_password(STAFF_PASSWORD)
        staff.save()
        staff.groups.add(staff_group)
        StaffMember.objects.update_or_create(user=staff, defaults={"branch": branches["central"]})
        medical, _ = User.objects.update_or_create(
            username="medstaff",
            defaults={
                "email": "medstaff@library.example.ac.jp",
                "first_name": "Medical",
                "last_name": "Staff",
                "is_staff": True,
            },
        )
        medical.set_password(STAFF_PASSWORD)
        medical.save()
        medical.groups.add(staff_group)
        StaffMember.objects.update_or_create(user=medical, defaults={"branch": branches["medical"]})
        admin, _ = User.objects.update_or_create(
            username="admin", defaults={"email": "admin@library.example.ac.jp", "is_staff": True, "is_superuser": True}
        )
        admin.set_password(ADMIN_PASSWORD)
        admin.save()
        admin.groups.add(admin_group)
        return staff

    def _branches(self):
        branches = {}
        for spec in BRANCHES:
            spec = dict(spec)
            hours = spec.pop("hours")
            branch, _ = Branch.objects.update_or_create(code=spec.pop("code"), defaults=spec)
            branch.opening_hours.exclude(weekday__in=[h[0] for h in hours]).delete()
            for weekday, opens, closes in hours:
                OpeningHours.objects.update_or_create(
                    branch=branch,
                    weekday=weekday,
                    defaults={
                        "opens": datetime.time.fromisoformat(opens),
                        "closes": datetime.time.fromisoformat(closes),
                    },
                )
            branches[branch.code] = branch
        return branches

    def _lenders(self):
        for spec in LENDERS:
            spec = dict(spec)
            schedule = spec.pop("schedule")
            paper = spec.pop("paper", [])
            lender, _ = LendingInstitution.objects.update_or_create(code=spec.pop("code"), defaults=spec)
            fee_schedule, _ = FeeSchedule.objects.update_or_create(lender=lender, defaults=schedule)
            for size, mono, colour in paper:
                PaperSizePrice.objects.update_or_create(
                    schedule=fee_schedule, paper_size=size, defaults={"mono_price": mono, "colour_price": colour}
                )

    def _patrons(self, branches, labs):
        User = get_user_model()
        patrons = {}
        for username, number, name, kana, category, lab, branch, language in PATRONS:
            user, _ = User.objects.update_or_create(username=username, defaults={"email": f"{username}@example.ac.jp"})
            user.set_password(PATRON_PASSWORD)
            user.save()
            patron, _ = Patron.objects.update_or_create(
                user=user,
                defaults={
                    "patron_number": number,
                    "full_name": name,
                    "full_name_kana": kana,
                    "category": category,
                    "laboratory": labs.get(lab),
                    "home_branch": branches[branch],
                    "preferred_language": language,
                },
            )
            patrons[username] = patron
        return patrons

    def _budgets(self, patrons, labs):
        year = current_fiscal_year()
        public, _ = BudgetCode.objects.update_or_create(
            code="2026-ENG-0301",
            fiscal_year=year,
            defaults={
                "name": "情報工学研究室 運営費 / Info. Eng. Lab running costs",
                "kind": BudgetCode.Kind.PUBLIC,
                "responsible": patrons["f0001005"],
                "laboratory": labs["info"],
                "limit": 50000,
            },
        )
        grant, _ = BudgetCode.objects.update_or_create(
            code="KAKENHI-24K01234",
            fiscal_year=year,
            defaults={
                "name": "科研費 基盤研究(C) / KAKENHI (C)",
                "kind": BudgetCode.Kind.GRANT,
                "responsible": patrons["f0001005"],
                "laboratory": None,
                "limit": 30000,
            },
        )
        grant.members.set([patrons["f0001005"], patrons["d2401004"]])
        BudgetCode.objects.update_or_create(
            code="KAKENHI-23H09999",
            fiscal_year=year,
            defaults={
                "name": "科研費(ILL不可) / KAKENHI (not for ILL)",
                "kind": BudgetCode.Kind.GRANT,
                "responsible": patrons["f0001005"],
                "usable_for_ill": False,
            },
        )
        SupportBudget.objects.update_or_create(fiscal_year=year, defaults={"total": 300000, "per_student_cap": 5})

    def _holdings(self, branches):
        for source_id, title, author, call_number, isbns, status in HOLDINGS:
            holding, _ = LocalHolding.objects.update_or_create(
                source_id=source_id,
                defaults={
                    "title": title,
                    "author": author,
                    "call_number": call_number,
                    "status": status,
                    "branch": branches["central"],
                    "is_electronic": source_id == "BIB000003",
                },
            )
            for isbn in isbns:
                LocalHoldingIdentifier.objects.get_or_create(holding=holding, scheme="isbn", value=isbn)
        nature = LocalHolding.objects.get(source_id="BIB000003")
        LocalHoldingIdentifier.objects.get_or_create(holding=nature, scheme="issn", value="0028-0836")

    def _samples(self, by_number, staff):
        """A few requests in different states so the desk does not start empty (mail not sent)."""
        patrons = {p.user.username: p for p in by_number.values()}
        branches = {b.code: b for b in Branch.objects.all()}
        toto = LendingInstitution.objects.get(code="FA004321")
        ndl = LendingInstitution.objects.get(code="NDL")
        services.submit_request(
            patron=patrons["u2301001"],
            actor=patrons["u2301001"].user,
            request=Request(
                kind=Request.Kind.LOAN,
                title="日本語の歴史",
                author="山口仲美",
                publisher="岩波書店",
                pub_year=2006,
                isbn="9784004310181",
                pickup_branch=branches["central"],
            ),
        )
        ordered = services.submit_request(
            patron=patrons["m2501003"],
            actor=patrons["m2501003"].user,
            request=Request(
                kind=Request.Kind.LOAN,
                title="統計的学習の基礎",
                author="Hastie, T.",
                publisher="共立出版",
                pub_year=2014,
                isbn="9784320123625",
                pickup_branch=branches["central"],
            ),
        )
        services.order(
            ordered, actor=staff, lenders=[ndl, toto], lender_reference="NDL-ILL-0001", nacsis_ill_id="FA26000001AA"
        )
        arrived = services.submit_request(
            patron=patrons["d2401004"],
            actor=patrons["d2401004"].user,
            request=Request(
                kind=Request.Kind.LOAN,
                title="Molecular Biology of the Cell",
                author="Alberts, B.",
                publisher="Garland",
                pub_year=2014,
                edition="6th ed.",
                isbn="9780815344322",
                pickup_branch=branches["medical"],
                expense_type=Request.ExpenseType.PRIVATE,
            ),
        )
        services.order(arrived, actor=staff, lenders=[toto], nacsis_ill_id="FA26000002AA")
        services.record_shipment(
            lender=toto,
            actor=staff,
            items=[
                services.ArrivedItem(
                    request=arrived, lender_due_date=timezone.localdate() + datetime.timedelta(days=14)
                )
            ],
        )

        on_loan = services.submit_request(
            patron=patrons["f0001005"],
            actor=staff,
            request=Request(
                kind=Request.Kind.LOAN,
                title="計算機プログラムの構造と解釈",
                author="Abelson, H.",
                publisher="翔泳社",
                pub_year=2014,
                isbn="9784798135984",
                pickup_branch=branches["central"],
                expense_type=Request.ExpenseType.PUBLIC,
                budget_code=patrons["f0001005"].laboratory.budget_codes.first(),
            ),
        )
        services.order(
            on_loan, actor=staff, lenders=[toto], lender_reference="TOTO-2026-0815", nacsis_ill_id="FA26000003AA"
        )
        services.record_shipment(
            lender=toto,
            actor=staff,
            items=[
                services.ArrivedItem(
                    request=on_loan, lender_due_date=timezone.localdate() + datetime.timedelta(days=10)
                )
            ],
        )
        services.hand_over(on_loan, actor=staff)
        services.request_extension(on_loan, actor=patrons["f0001005"].user, reason="査読対応のため")
        self._copyright_samples(patrons, branches["central"], staff)

    def _copyright_samples(self, patrons, central, staff):
        """For the copyright log: refusals (recorded by the intake), a staff rejection and an override."""

        def chapter(**fields):
            values = {"kind": Request.Kind.COPY, "material_type": Request.MaterialType.CHAPTER, "title": "知覚の現象学"}
            values |= {"article_title": "第1部", "page_count": 60, "work_total_pages": 100, "copyright_accepted": True}
            return Request(pickup_branch=central, **(values | fields))

        hanako, misaki = patrons["u2301001"], patrons["m2501003"]
        refused = [
            (hanako, chapter()),  # half or more of a work
            (hanako, chapter(purpose=Request.Purpose.OTHER, page_count=10)),  # not research or study
            (
                misaki,
                Request(kind=Request.Kind.LOAN, title="統計的学習の基礎", isbn="9784320123625", pickup_branch=central),
            ),  # requested before
        ]
        for patron, request in refused:
            try:
                services.submit_request(patron=patron, actor=patron.user, request=request)
            except rules.RulesRefused:
                pass  # recorded in the copyright log (ill.refusals)
        admin = get_user_model().objects.get(username="admin")  # may override the rules
        services.submit_request(
            patron=hanako,
            actor=admin,
            request=chapter(article_title="序論と第1部"),
            overrides={"copyright": "著作権者の許諾書を確認済み(2026-11-30)"},
        )
        rejected = services.submit_request(patron=misaki, actor=misaki.user, request=chapter(page_count=40))
        services.reject(
            rejected, actor=staff, reason=Request.RejectReason.COPYRIGHT, note="出版者が複写を認めていない資料です。"
        )

    def _print_logins(self):
        out = self.stdout
        out.write(self.style.SUCCESS(f"Demo data loaded. Log in at {settings.SITE_URL.rstrip('/')}/ with:"))
        out.write(f"  admin (Django admin + desk)   admin / {ADMIN_PASSWORD}")
        out.write(f"  circulation staff (desk)      staff / {STAFF_PASSWORD}  (central library)")
        out.write(f"  circulation staff (desk)      medstaff / {STAFF_PASSWORD}  (medical library)")
        for username, _number, name, _kana, category, _lab, branch, language in PATRONS:
            label = dict(Patron.Category.choices)[category]
            out.write(f"  patron {str(label):32} {username} / {PATRON_PASSWORD}  ({name}, {branch}, {language})")
