"""factory-boy factories for every model. The cast used across tests:

- `undergraduate` (years 1–3, no lab), `doctoral` (in a lab, member of a grant), `faculty`
  (responsible for the lab's public budget code), and a patron of the other branch;
- `staff_user` (circulation staff group), `admin_user`.
"""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from fees.models import (
    BudgetCode,
    BudgetLedgerEntry,
    Charge,
    ChargeLine,
    FeeSchedule,
    PaperSizePrice,
    Payment,
    Shipment,
    SupportBudget,
    SupportUse,
    current_fiscal_year,
)
from ill.models import (
    ExtensionRequest,
    LenderCandidate,
    LendingInstitution,
    LocalHolding,
    LocalHoldingIdentifier,
    Request,
    RequestEvent,
    RequestNumberCounter,
)
from notifications.models import OutboxMessage
from patrons.models import Branch, Laboratory, OpeningHours, Patron


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.ac.jp")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = "central"
    name = "中央図書館"
    name_en = "Central Library"
    counter = "資料サービスカウンター"
    counter_en = "Circulation counter"
    phone = "0857-31-5672"


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    branch = factory.SubFactory(BranchFactory)
    weekday = 0
    opens = datetime.time(8, 45)
    closes = datetime.time(21, 0)


class LaboratoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Laboratory

    name = factory.Sequence(lambda n: f"研究室{n}")
    name_en = factory.Sequence(lambda n: f"Lab {n}")
    campus_mail_address = "工学部棟 301"


class PatronFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patron

    user = factory.SubFactory(UserFactory)
    patron_number = factory.Sequence(lambda n: f"P{n:07d}")
    full_name = factory.Sequence(lambda n: f"利用者 {n}")
    category = Patron.Category.UNDERGRADUATE
    home_branch = factory.SubFactory(BranchFactory)
    preferred_language = "ja"


class LendingInstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LendingInstitution

    code = factory.Sequence(lambda n: f"FA{n:06d}")
    name = factory.Sequence(lambda n: f"大学図書館{n}")
    name_en = factory.Sequence(lambda n: f"University Library {n}")
    kind = LendingInstitution.Kind.JAPANESE_UNIVERSITY
    is_offset_participant = True
    accepts_public_expense = True
    supports_express = True
    supports_fax = False


class FeeScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeSchedule

    lender = factory.SubFactory(LendingInstitutionFactory)
    mono_price = 35
    colour_price = 100
    postage_per_shipment = 140
    tax_included = True
    loan_fee_mode = FeeSchedule.LoanFeeMode.ROUND_TRIP
    loan_fee = 1600


class PaperSizePriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaperSizePrice

    schedule = factory.SubFactory(FeeScheduleFactory)
    paper_size = "A3"
    mono_price = 70
    colour_price = 200


class BudgetCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetCode
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"BC-{n:04d}")
    name = factory.Sequence(lambda n: f"Budget {n}")
    kind = BudgetCode.Kind.PUBLIC
    fiscal_year = factory.LazyFunction(current_fiscal_year)
    responsible = factory.SubFactory(PatronFactory, category=Patron.Category.FACULTY)

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.members.set(extracted)


class SupportBudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportBudget
        django_get_or_create = ("fiscal_year",)

    fiscal_year = factory.LazyFunction(current_fiscal_year)
    total = 100000


class RequestFactory(factory.django.DjangoModelFactory):
    """A submitted loan. Use the lifecycle services to move it on; `status` is set here only to
    build fixtures in a given state without replaying the whole history."""

    class Meta:
        model = Request
        skip_postgeneration_save = True  # the hooks write other rows, not the request

    number = factory.Sequence(lambda n: f"ILL-2026-{900000 + n:06d}")
    patron = factory.SubFactory(PatronFactory)
    kind = Request.Kind.LOAN
    status = Request.Status.SUBMITTED
    material_type = Request.MaterialType.BOOK
    title = factory.Sequence(lambda n: f"Book {n}")
    author = "Author"
    pickup_branch = factory.SelfAttribute("patron.home_branch")
    reject_reason = factory.LazyAttribute(lambda o: "rare" if o.status == Request.Status.REJECTED else "")

    @factory.post_generation
    def support_use(obj, create, extracted, **kwargs):
        """As submission does: a request linked to the support budget has its use recorded."""
        if create and obj.support_budget_id is not None:
            SupportUse.objects.get_or_create(
                request=obj, defaults={"budget_id": obj.support_budget_id, "patron_id": obj.patron_id}
            )


class CopyRequestFactory(RequestFactory):
    kind = Request.Kind.COPY
    material_type = Request.MaterialType.ARTICLE
    title = "Journal of Examples"
    article_title = factory.Sequence(lambda n: f"Article {n}")
    page_count = 10
    copyright_accepted = True


class LenderCandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LenderCandidate

    request = factory.SubFactory(RequestFactory)
    position = 1
    lender = factory.SubFactory(LendingInstitutionFactory)


class RequestEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestEvent

    request = factory.SubFactory(RequestFactory)
    action = "note"
    from_status = "submitted"
    to_status = "submitted"


class RequestNumberCounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestNumberCounter
        django_get_or_create = ("year",)

    year = 2026


class ExtensionRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExtensionRequest

    request = factory.SubFactory(RequestFactory, status=Request.Status.ON_LOAN)


class LocalHoldingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalHolding

    source_id = factory.Sequence(lambda n: f"BIB{n:08d}")
    title = factory.Sequence(lambda n: f"Held book {n}")


class LocalHoldingIdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalHoldingIdentifier

    holding = factory.SubFactory(LocalHoldingFactory)
    scheme = "isbn"
    value = "9784101010014"


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    lender = factory.SubFactory(LendingInstitutionFactory)
    total = 0


class ChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Charge
        skip_postgeneration_save = True

    @factory.post_generation
    def support_use(obj, create, extracted, **kwargs):
        """As the arrival service does: a support charge is what the support budget spent."""
        if create and obj.payment_class == Charge.PaymentClass.SUPPORT:
            SupportUse.objects.filter(request=obj.request).update(state=SupportUse.State.CHARGED, amount=obj.total)

    request = factory.SubFactory(RequestFactory, status=Request.Status.ARRIVED)
    payment_class = Charge.PaymentClass.PRIVATE
    computed_total = factory.SelfAttribute("total")
    total = 1600
    adjustment = factory.LazyAttribute(lambda o: o.total - o.copy_fee - o.postage - o.other_fees)
    copy_fee = 0
    postage = 0
    other_fees = 0
    state = Charge.State.DUE


class ChargeLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargeLine

    charge = factory.SubFactory(ChargeFactory)
    position = 1
    code = "loan_round_trip"
    section = "B"
    unit_price = 1600
    quantity = 1
    amount = 1600


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    charge = factory.SubFactory(ChargeFactory)
    request = factory.SelfAttribute("charge.request")
    method = Payment.Method.CASH
    amount = 1600
    receipt_number = factory.Sequence(lambda n: f"R{n:06d}")


class BudgetLedgerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLedgerEntry

    budget_code = factory.SubFactory(BudgetCodeFactory)
    request = factory.SubFactory(RequestFactory)
    entry_type = BudgetLedgerEntry.EntryType.COMMITMENT
    amount = 1000


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    kind = OutboxMessage.Kind.RECEIVED
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")
    recipient = "someone@example.ac.jp"
    subject = "Subject"
    body_text = "Body"


def future(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)
