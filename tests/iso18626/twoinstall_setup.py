# Run inside one installation by tests/iso18626/twoinstall.py (`manage.py shell -c`) after migrate: a
# small library (a branch, a member of staff, a patron, an ordinary lender), the other installation as a
# partner library with its ISIL, fee schedule and ISO 18626 peer; on the lending side (B) our fee
# schedule and the holdings asked for; on the borrowing side (A) the patron's requests.
# PARAMS and emit() are given by the harness.
# ruff: noqa: F821
import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from fees.models import FeeSchedule
from ill import services
from ill.models import LendingInstitution, LocalHolding, LocalHoldingIdentifier, Request
from iso18626.models import Peer
from lending.models import BorrowerTerms, OurFeeSchedule
from patrons.models import Branch, OpeningHours, Patron, StaffMember
from patrons.roles import CIRCULATION_STAFF, ensure_roles

# The other library's fees as it publishes them: A's schedule for B is B's own schedule, so the
# charge A records on arrival is the one B sent with the shipment.
SCHEDULE = {
    "mono_price": 35,
    "colour_price": 100,
    "postage_per_shipment": 140,
    "tax_included": True,
    "loan_fee_mode": "round_trip",
    "loan_fee": 1600,
}

User = get_user_model()
ensure_roles()
branch, _created = Branch.objects.update_or_create(
    code="central",
    defaults={"name": "中央図書館", "name_en": "Central Library", "counter": "カウンター", "counter_en": "Counter"},
)
for weekday in range(7):
    OpeningHours.objects.update_or_create(
        branch=branch, weekday=weekday, defaults={"opens": datetime.time(8, 45), "closes": datetime.time(21, 0)}
    )
staff, _created = User.objects.update_or_create(
    username="staff", defaults={"email": "staff@example.ac.jp", "is_staff": True}
)
staff.set_password(PARAMS["password"])
staff.save()
staff.groups.add(Group.objects.get(name=CIRCULATION_STAFF))
StaffMember.objects.update_or_create(user=staff, defaults={"branch": branch})
patron_user, _created = User.objects.update_or_create(username="m2501003", defaults={"email": "m2501003@example.ac.jp"})
patron_user.set_password(PARAMS["password"])
patron_user.save()
Patron.objects.update_or_create(
    user=patron_user,
    defaults={
        "patron_number": "M2501003",
        "full_name": "高橋 美咲",
        "category": Patron.Category.MASTERS,
        "home_branch": branch,
        "preferred_language": "en",
    },
)
ordinary, _created = LendingInstitution.objects.update_or_create(
    code="FA004321",
    defaults={"name": "東都大学附属図書館", "name_en": "Toto University Library", "kind": "jp_university"},
)
FeeSchedule.objects.update_or_create(lender=ordinary, defaults={"mono_price": 35, "postage_per_shipment": 140})

other = PARAMS["other"]
partner, _created = LendingInstitution.objects.update_or_create(
    code=other["code"],
    defaults={
        "name": other["name"],
        "name_en": other["name"],
        "kind": LendingInstitution.Kind.JAPANESE_UNIVERSITY,
        "is_offset_participant": True,
        "accepts_public_expense": True,
        "isil": other["isil"],
        "loan_period_days": 30,
    },
)
FeeSchedule.objects.update_or_create(lender=partner, defaults=SCHEDULE)
Peer.objects.update_or_create(
    library=partner,
    defaults={"endpoint_url": other["url"] + "/iso18626/", "shared_secret": PARAMS["secret"], "active": True},
)
result = {"partner": partner.pk}

if PARAMS["role"] == "lender":
    BorrowerTerms.objects.update_or_create(library=partner, defaults={"may_borrow": True})
    OurFeeSchedule.objects.update_or_create(singleton=True, defaults=SCHEDULE)
    for source_id, title, call_number, scheme, value in PARAMS["holdings"]:
        holding, _created = LocalHolding.objects.update_or_create(
            source_id=source_id, defaults={"title": title, "call_number": call_number, "location": "Stacks 3F"}
        )
        LocalHoldingIdentifier.objects.get_or_create(holding=holding, scheme=scheme, value=value)

if PARAMS["role"] == "borrower":
    patron = Patron.objects.select_related("user", "home_branch").get(user=patron_user)
    numbers = {}
    for key, fields in PARAMS["requests"].items():
        request = Request(pickup_branch=patron.home_branch, **fields)
        numbers[key] = services.submit_request(patron=patron, request=request, actor=patron.user).number
    result.update(numbers=numbers, patron_email=patron.user.email)

emit(result)
