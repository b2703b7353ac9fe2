# Issue 12: every number and date bounded by the domain (core.bounds), as validators and CHECKs.
from django.db import migrations, models

import core.bounds


class Migration(migrations.Migration):
    dependencies = [("fees", "0012_support_use_budget_amount")]

    operations = [
        migrations.AlterField(
            model_name="budgetcode",
            name="fiscal_year",
            field=models.PositiveSmallIntegerField(
                help_text="April to March; 2026 means April 2026 – March 2027.",
                validators=[core.bounds.InRange(2000, 2200)],
                verbose_name="fiscal year",
            ),
        ),
        migrations.AlterField(
            model_name="budgetcode",
            name="limit",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Leave empty for no limit.",
                null=True,
                validators=[core.bounds.InRange(0, 1000000000)],
                verbose_name="limit (yen)",
            ),
        ),
        migrations.AlterField(
            model_name="budgetledgerentry",
            name="amount",
            field=models.IntegerField(
                validators=[core.bounds.InRange(-10000000, 10000000)], verbose_name="amount (yen)"
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="adjustment",
            field=models.IntegerField(
                default=0,
                help_text="Staff's correction to the computed charge, so that A + B + C + adjustment = total.",
                validators=[core.bounds.InRange(-10000000, 10000000)],
                verbose_name="adjustment (yen)",
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="computed_total",
            field=models.PositiveIntegerField(
                validators=[core.bounds.InRange(0, 10000000)], verbose_name="computed total"
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="copy_fee",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000000)], verbose_name="copy fee (A)"
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="other_fees",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000000)], verbose_name="other fees (C)"
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="postage",
            field=models.PositiveIntegerField(
                default=0,
                validators=[core.bounds.InRange(0, 10000000)],
                verbose_name="postage or communication fee (B)",
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="return_postage",
            field=models.PositiveIntegerField(
                default=0,
                help_text="For loans: the part of the total paid for the return — stamps brought by the patron (private expense) or the postal bar code (public expense).",
                validators=[core.bounds.InRange(0, 10000000)],
                verbose_name="return postage (yen)",
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="tax",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000000)], verbose_name="consumption tax"
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="total",
            field=models.PositiveIntegerField(
                validators=[core.bounds.InRange(0, 10000000)], verbose_name="total (yen)"
            ),
        ),
        migrations.AlterField(
            model_name="chargeline",
            name="amount",
            field=models.PositiveIntegerField(validators=[core.bounds.InRange(0, 10000000)], verbose_name="amount"),
        ),
        migrations.AlterField(
            model_name="chargeline",
            name="position",
            field=models.PositiveSmallIntegerField(validators=[core.bounds.InRange(1, 1000)]),
        ),
        migrations.AlterField(
            model_name="chargeline",
            name="quantity",
            field=models.PositiveIntegerField(validators=[core.bounds.InRange(0, 10000)], verbose_name="quantity"),
        ),
        migrations.AlterField(
            model_name="chargeline",
            name="unit_price",
            field=models.PositiveIntegerField(validators=[core.bounds.InRange(0, 10000000)], verbose_name="unit price"),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="bank_transfer_fee",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="bank transfer fee per payment"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="colour_price",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000)], verbose_name="colour, per page"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="express_surcharge",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="express surcharge per shipment"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="fax_fee_fixed",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="FAX fee per shipment"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="fax_fee_per_page",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000)], verbose_name="FAX fee per page"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="handling_fee_per_item",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="handling fee per item"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="loan_express_surcharge",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="loan express surcharge per item"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="loan_fee",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="loan fee per item"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="mono_price",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000)], verbose_name="monochrome, per page"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="overseas_fax_surcharge",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="overseas FAX surcharge per item"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="overseas_flat_fee_per_item",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="overseas flat fee per item"
            ),
        ),
        migrations.AlterField(
            model_name="feeschedule",
            name="postage_per_shipment",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="postage per shipment"
            ),
        ),
        migrations.AlterField(
            model_name="papersizeprice",
            name="colour_price",
            field=models.PositiveIntegerField(
                validators=[core.bounds.InRange(0, 10000)], verbose_name="colour, per page"
            ),
        ),
        migrations.AlterField(
            model_name="papersizeprice",
            name="mono_price",
            field=models.PositiveIntegerField(
                validators=[core.bounds.InRange(0, 10000)], verbose_name="monochrome, per page"
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="amount",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000000)], verbose_name="amount (yen)"
            ),
        ),
        migrations.AlterField(
            model_name="shipment",
            name="total",
            field=models.PositiveIntegerField(
                validators=[core.bounds.InRange(0, 10000000)], verbose_name="total (yen)"
            ),
        ),
        migrations.AlterField(
            model_name="supportbudget",
            name="fiscal_year",
            field=models.PositiveSmallIntegerField(
                unique=True, validators=[core.bounds.InRange(2000, 2200)], verbose_name="fiscal year"
            ),
        ),
        migrations.AlterField(
            model_name="supportbudget",
            name="per_student_cap",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Leave empty for no cap.",
                null=True,
                validators=[core.bounds.InRange(0, 1000)],
                verbose_name="supported requests per student",
            ),
        ),
        migrations.AlterField(
            model_name="supportbudget",
            name="total",
            field=models.PositiveIntegerField(
                validators=[core.bounds.InRange(0, 1000000000)], verbose_name="total (yen)"
            ),
        ),
        migrations.AlterField(
            model_name="supportuse",
            name="amount",
            field=models.PositiveIntegerField(
                default=0,
                help_text="The estimate held while ordered; the charge once it arrived.",
                validators=[core.bounds.InRange(0, 10000000)],
                verbose_name="amount (yen)",
            ),
        ),
        migrations.AddConstraint(
            model_name="budgetcode",
            constraint=models.CheckConstraint(
                condition=models.Q(("fiscal_year__gte", 2000), ("fiscal_year__lte", 2200)),
                name="budget_code_fiscal_year_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="budgetcode",
            constraint=models.CheckConstraint(
                condition=models.Q(("limit__gte", 0), ("limit__lte", 1000000000)), name="budget_code_limit_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="budgetledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", -10000000), ("amount__lte", 10000000)), name="ledger_amount_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("copy_fee__gte", 0), ("copy_fee__lte", 10000000)), name="charge_copy_fee_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("postage__gte", 0), ("postage__lte", 10000000)), name="charge_postage_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("other_fees__gte", 0), ("other_fees__lte", 10000000)),
                name="charge_other_fees_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("tax__gte", 0), ("tax__lte", 10000000)), name="charge_tax_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("return_postage__gte", 0), ("return_postage__lte", 10000000)),
                name="charge_return_postage_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("computed_total__gte", 0), ("computed_total__lte", 10000000)),
                name="charge_computed_total_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gte", 0), ("total__lte", 10000000)), name="charge_total_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("adjustment__gte", -10000000), ("adjustment__lte", 10000000)),
                name="charge_adjustment_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="chargeline",
            constraint=models.CheckConstraint(
                condition=models.Q(("position__gte", 1), ("position__lte", 1000)), name="charge_line_position_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="chargeline",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_price__gte", 0), ("unit_price__lte", 10000000)),
                name="charge_line_unit_price_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="chargeline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gte", 0), ("quantity__lte", 10000)), name="charge_line_quantity_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="chargeline",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0), ("amount__lte", 10000000)), name="charge_line_amount_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("mono_price__gte", 0), ("mono_price__lte", 10000)),
                name="fee_schedule_mono_price_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("colour_price__gte", 0), ("colour_price__lte", 10000)),
                name="fee_schedule_colour_price_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("handling_fee_per_item__gte", 0), ("handling_fee_per_item__lte", 1000000)),
                name="fee_schedule_handling_fee_per_item_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("postage_per_shipment__gte", 0), ("postage_per_shipment__lte", 1000000)),
                name="fee_schedule_postage_per_shipment_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("express_surcharge__gte", 0), ("express_surcharge__lte", 1000000)),
                name="fee_schedule_express_surcharge_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("fax_fee_per_page__gte", 0), ("fax_fee_per_page__lte", 10000)),
                name="fee_schedule_fax_fee_per_page_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("fax_fee_fixed__gte", 0), ("fax_fee_fixed__lte", 1000000)),
                name="fee_schedule_fax_fee_fixed_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("bank_transfer_fee__gte", 0), ("bank_transfer_fee__lte", 1000000)),
                name="fee_schedule_bank_transfer_fee_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("overseas_flat_fee_per_item__gte", 0), ("overseas_flat_fee_per_item__lte", 1000000)
                ),
                name="fee_schedule_overseas_flat_fee_per_item_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("overseas_fax_surcharge__gte", 0), ("overseas_fax_surcharge__lte", 1000000)),
                name="fee_schedule_overseas_fax_surcharge_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("loan_fee__gte", 0), ("loan_fee__lte", 1000000)), name="fee_schedule_loan_fee_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="feeschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(("loan_express_surcharge__gte", 0), ("loan_express_surcharge__lte", 1000000)),
                name="fee_schedule_loan_express_surcharge_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="papersizeprice",
            constraint=models.CheckConstraint(
                condition=models.Q(("mono_price__gte", 0), ("mono_price__lte", 10000)),
                name="paper_price_mono_price_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="papersizeprice",
            constraint=models.CheckConstraint(
                condition=models.Q(("colour_price__gte", 0), ("colour_price__lte", 10000)),
                name="paper_price_colour_price_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0), ("amount__lte", 10000000)), name="payment_amount_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gte", 0), ("total__lte", 10000000)), name="shipment_total_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="supportbudget",
            constraint=models.CheckConstraint(
                condition=models.Q(("fiscal_year__gte", 2000), ("fiscal_year__lte", 2200)),
                name="support_budget_fiscal_year_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="supportbudget",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gte", 0), ("total__lte", 1000000000)), name="support_budget_total_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="supportbudget",
            constraint=models.CheckConstraint(
                condition=models.Q(("per_student_cap__gte", 0), ("per_student_cap__lte", 1000)),
                name="support_budget_per_student_cap_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="supportuse",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0), ("amount__lte", 10000000)), name="support_use_amount_range"
            ),
        ),
    ]
