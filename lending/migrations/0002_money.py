import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import core.bounds


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0001_initial"),
        ("fees", "0014_verbose_names"),
        ("ill", "0023_isil"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="lendingrequest",
            options={
                "ordering": ["-received_at"],
                "permissions": [
                    ("override_copyright", "Can start a copy that the copyright rules refuse, with a recorded reason")
                ],
                "verbose_name": "lending request",
                "verbose_name_plural": "lending requests",
            },
        ),
        migrations.CreateModel(
            name="Invoice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.CharField(editable=False, max_length=20, unique=True, verbose_name="invoice number")),
                ("fiscal_year", models.PositiveSmallIntegerField(editable=False, verbose_name="fiscal year")),
                ("issued_on", models.DateField(verbose_name="issued on")),
                ("due_on", models.DateField(verbose_name="payment due")),
                (
                    "total",
                    models.PositiveIntegerField(
                        validators=[core.bounds.InRange(0, 1000000000)], verbose_name="total (yen, tax included)"
                    ),
                ),
                ("tax", models.PositiveIntegerField(default=0, verbose_name="of which consumption tax (yen)")),
                ("issuer", models.JSONField(blank=True, default=dict, editable=False, verbose_name="issuer")),
                (
                    "bank_details",
                    models.JSONField(blank=True, default=dict, editable=False, verbose_name="bank details"),
                ),
                ("paid_on", models.DateField(blank=True, null=True, verbose_name="paid on")),
                ("paid_amount", models.PositiveIntegerField(blank=True, null=True, verbose_name="amount paid (yen)")),
                ("cancelled", models.BooleanField(default=False, verbose_name="cancelled")),
                ("cancelled_reason", models.CharField(blank=True, max_length=300, verbose_name="reason cancelled")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created"),
                ),
                (
                    "borrower",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lending_invoices",
                        to="ill.lendinginstitution",
                        verbose_name="borrowing library",
                    ),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="issued by",
                    ),
                ),
                (
                    "payment_recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="payment recorded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "invoice",
                "verbose_name_plural": "invoices",
                "ordering": ["-issued_on", "-number"],
            },
        ),
        migrations.CreateModel(
            name="LendingCharge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "settlement",
                    models.CharField(
                        choices=[("offset", "Fee-offset (料金相殺)"), ("invoice", "Invoice"), ("free", "No charge")],
                        max_length=10,
                        verbose_name="settlement",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("open", "Not yet settled"),
                            ("invoiced", "On an invoice"),
                            ("offset_recorded", "Entered for fee-offset"),
                            ("paid", "Paid"),
                            ("waived", "Waived"),
                        ],
                        default="open",
                        max_length=16,
                        verbose_name="state",
                    ),
                ),
                ("lines", models.JSONField(blank=True, default=list, verbose_name="lines")),
                (
                    "copy_fee",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 10000000)], verbose_name="copy fee (A)"
                    ),
                ),
                (
                    "postage",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[core.bounds.InRange(0, 10000000)],
                        verbose_name="postage or communication fee (B)",
                    ),
                ),
                (
                    "other_fees",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 10000000)], verbose_name="other fees (C)"
                    ),
                ),
                (
                    "tax",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[core.bounds.InRange(0, 10000000)],
                        verbose_name="of which consumption tax",
                    ),
                ),
                (
                    "total",
                    models.PositiveIntegerField(
                        validators=[core.bounds.InRange(0, 10000000)], verbose_name="total (yen, tax included)"
                    ),
                ),
                (
                    "offset_statement_ref",
                    models.CharField(blank=True, max_length=100, verbose_name="fee-offset statement"),
                ),
                (
                    "offset_recorded_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="entered for fee-offset"),
                ),
                ("paid_on", models.DateField(blank=True, null=True, verbose_name="paid on")),
                ("waived_reason", models.CharField(blank=True, max_length=300, verbose_name="reason waived")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "borrower",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lending_charges",
                        to="ill.lendinginstitution",
                        verbose_name="borrowing library",
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="charges",
                        to="lending.invoice",
                        verbose_name="invoice",
                    ),
                ),
                (
                    "request",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="charge",
                        to="lending.lendingrequest",
                        verbose_name="lending request",
                    ),
                ),
                (
                    "waived_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="waived by",
                    ),
                ),
            ],
            options={
                "verbose_name": "lending charge",
                "verbose_name_plural": "lending charges",
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="NumberCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("series", models.CharField(max_length=10, verbose_name="series")),
                ("year", models.PositiveSmallIntegerField(verbose_name="fiscal year")),
                ("last", models.PositiveIntegerField(default=0, verbose_name="last number")),
            ],
            options={
                "verbose_name": "lending number counter",
                "verbose_name_plural": "lending number counters",
                "constraints": [models.UniqueConstraint(fields=("series", "year"), name="lending_counter_unique")],
            },
        ),
        migrations.CreateModel(
            name="OurFeeSchedule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("singleton", models.BooleanField(default=True, editable=False, unique=True)),
                (
                    "mono_price",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 10000)], verbose_name="monochrome, per page"
                    ),
                ),
                (
                    "colour_price",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 10000)], verbose_name="colour, per page"
                    ),
                ),
                (
                    "handling_fee_per_item",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="handling fee per item"
                    ),
                ),
                (
                    "postage_per_shipment",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="postage per shipment"
                    ),
                ),
                (
                    "express_surcharge",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[core.bounds.InRange(0, 1000000)],
                        verbose_name="express surcharge per shipment",
                    ),
                ),
                (
                    "fax_fee_mode",
                    models.CharField(
                        choices=[
                            ("none", "No FAX / electronic delivery"),
                            ("per_page", "Per page"),
                            ("fixed", "Fixed per shipment"),
                        ],
                        default="none",
                        max_length=10,
                        verbose_name="FAX / electronic fee",
                    ),
                ),
                (
                    "fax_fee_per_page",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 10000)], verbose_name="FAX fee per page"
                    ),
                ),
                (
                    "fax_fee_fixed",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="FAX fee per shipment"
                    ),
                ),
                (
                    "bank_transfer_fee",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[core.bounds.InRange(0, 1000000)],
                        verbose_name="bank transfer fee per payment",
                    ),
                ),
                (
                    "tax_rate_percent",
                    models.PositiveSmallIntegerField(
                        default=10,
                        validators=[django.core.validators.MaxValueValidator(100)],
                        verbose_name="consumption tax rate (%)",
                    ),
                ),
                ("tax_included", models.BooleanField(default=True, verbose_name="prices include tax")),
                (
                    "overseas_flat_fee_per_item",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[core.bounds.InRange(0, 1000000)],
                        verbose_name="overseas flat fee per item",
                    ),
                ),
                (
                    "overseas_fax_surcharge",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[core.bounds.InRange(0, 1000000)],
                        verbose_name="overseas FAX surcharge per item",
                    ),
                ),
                (
                    "loan_fee_mode",
                    models.CharField(
                        choices=[
                            ("round_trip", "Round trip postage"),
                            ("return_only", "Return postage only"),
                            ("free", "Free"),
                            ("quote", "Quoted case by case"),
                        ],
                        default="free",
                        max_length=12,
                        verbose_name="loan fee",
                    ),
                ),
                (
                    "loan_fee",
                    models.PositiveIntegerField(
                        default=0, validators=[core.bounds.InRange(0, 1000000)], verbose_name="loan fee per item"
                    ),
                ),
                (
                    "loan_express_surcharge",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[core.bounds.InRange(0, 1000000)],
                        verbose_name="loan express surcharge per item",
                    ),
                ),
                ("notes", models.TextField(blank=True, verbose_name="notes")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
            ],
            options={
                "verbose_name": "our fee schedule (lending)",
                "verbose_name_plural": "our fee schedule (lending)",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("singleton", True)), name="our_fee_schedule_single_row"),
                    models.CheckConstraint(
                        condition=models.Q(("tax_rate_percent__lte", 100)), name="our_fee_schedule_tax_rate_range"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("fax_fee_mode__in", ["none", "per_page", "fixed"])),
                        name="our_fee_schedule_fax_mode_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("loan_fee_mode__in", ["round_trip", "return_only", "free", "quote"])),
                        name="our_fee_schedule_loan_mode_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("mono_price__gte", 0), ("mono_price__lte", 10000)),
                        name="our_fee_schedule_mono_price_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("colour_price__gte", 0), ("colour_price__lte", 10000)),
                        name="our_fee_schedule_colour_price_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("fax_fee_per_page__gte", 0), ("fax_fee_per_page__lte", 10000)),
                        name="our_fee_schedule_fax_fee_per_page_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("handling_fee_per_item__gte", 0), ("handling_fee_per_item__lte", 1000000)),
                        name="our_fee_schedule_handling_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("postage_per_shipment__gte", 0), ("postage_per_shipment__lte", 1000000)),
                        name="our_fee_schedule_postage_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("express_surcharge__gte", 0), ("express_surcharge__lte", 1000000)),
                        name="our_fee_schedule_express_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("fax_fee_fixed__gte", 0), ("fax_fee_fixed__lte", 1000000)),
                        name="our_fee_schedule_fax_fee_fixed_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("bank_transfer_fee__gte", 0), ("bank_transfer_fee__lte", 1000000)),
                        name="our_fee_schedule_bank_transfer_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("overseas_flat_fee_per_item__gte", 0), ("overseas_flat_fee_per_item__lte", 1000000)
                        ),
                        name="our_fee_schedule_overseas_flat_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("overseas_fax_surcharge__gte", 0), ("overseas_fax_surcharge__lte", 1000000)
                        ),
                        name="our_fee_schedule_overseas_fax_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("loan_fee__gte", 0), ("loan_fee__lte", 1000000)),
                        name="our_fee_schedule_loan_fee_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("loan_express_surcharge__gte", 0), ("loan_express_surcharge__lte", 1000000)
                        ),
                        name="our_fee_schedule_loan_express_range",
                    ),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("cancelled", False), ("paid_on__isnull", True)),
                fields=["due_on"],
                name="lending_invoice_open",
            ),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["borrower", "-issued_on"], name="lending_invoice_borrower"),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gte", 0), ("total__lte", 1000000000)), name="lending_invoice_total_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_on__gte", models.F("issued_on"))), name="lending_invoice_due_after"
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(("paid_on__isnull", True), ("cancelled", False), _connector="OR"),
                name="lending_invoice_paid_not_cancelled",
            ),
        ),
        migrations.AddIndex(
            model_name="lendingcharge",
            index=models.Index(
                condition=models.Q(("state__in", ["open", "invoiced", "offset_recorded"])),
                fields=["borrower", "settlement"],
                name="lending_charge_unsettled",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendingcharge",
            constraint=models.CheckConstraint(
                condition=models.Q(("settlement__in", ["offset", "invoice", "free"])),
                name="lending_charge_settlement_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendingcharge",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["open", "invoiced", "offset_recorded", "paid", "waived"])),
                name="lending_charge_state_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendingcharge",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("state", "invoiced"), _negated=True), ("invoice__isnull", False), _connector="OR"
                ),
                name="lending_charge_invoiced_has_invoice",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendingcharge",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("state", "waived"), _negated=True),
                    models.Q(("waived_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="lending_charge_waived_has_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendingcharge",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gte", 0), ("total__lte", 10000000)), name="lending_charge_total_range"
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="lines",
            field=models.JSONField(blank=True, default=list, editable=False, verbose_name="lines as issued"),
        ),
        migrations.AddField(
            model_name="invoice",
            name="tax_rate_percent",
            field=models.PositiveSmallIntegerField(default=0, editable=False, verbose_name="consumption tax rate (%)"),
        ),
    ]
