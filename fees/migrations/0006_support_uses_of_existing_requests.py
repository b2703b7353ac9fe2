"""Record the support-budget use of every request already linked to a support budget."""

from django.db import migrations

FAILED = {"rejected", "cancelled"}
SUPPORT_KINDS = {"jp_university", "ndl", "jp_research"}


def forwards(apps, schema_editor):
    Request = apps.get_model("ill", "Request")
    Charge = apps.get_model("fees", "Charge")
    SupportUse = apps.get_model("fees", "SupportUse")
    charged = dict(Charge.objects.filter(payment_class="support").values_list("request_id", "total"))
    uses = []
    linked = Request.objects.filter(support_budget__isnull=False).select_related("lender")
    for request in linked.iterator(chunk_size=1000):
        state, amount = "linked", 0
        if request.pk in charged:
            state, amount = "charged", charged[request.pk]
        elif request.status in FAILED or request.close_reason in ("unfilled", "not_needed"):
            state = "released"
        elif request.status == "ordered" and request.lender and request.lender.kind in SUPPORT_KINDS:
            state, amount = "reserved", request.estimate or 0
        uses.append(
            SupportUse(
                budget_id=request.support_budget_id,
                request_id=request.pk,
                patron_id=request.patron_id,
                state=state,
                amount=amount,
            )
        )
    SupportUse.objects.bulk_create(uses, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("fees", "0005_support_use"), ("ill", "0006_support_use_and_not_needed")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
