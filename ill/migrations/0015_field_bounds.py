# Issue 12: every number and date bounded by the domain (core.bounds), as validators and CHECKs.
import datetime

from django.db import migrations, models

import core.bounds


class Migration(migrations.Migration):
    dependencies = [("ill", "0014_holdings_import")]

    operations = [
        migrations.AlterField(
            model_name="extensionrequest",
            name="new_due_date",
            field=models.DateField(
                blank=True,
                null=True,
                validators=[core.bounds.DateInRange(datetime.date(2000, 1, 1), datetime.date(2200, 12, 31))],
                verbose_name="new due date",
            ),
        ),
        migrations.AlterField(
            model_name="extensionrequest",
            name="new_lender_due_date",
            field=models.DateField(
                blank=True,
                null=True,
                validators=[core.bounds.DateInRange(datetime.date(2000, 1, 1), datetime.date(2200, 12, 31))],
                verbose_name="new lender's due date",
            ),
        ),
        migrations.AlterField(
            model_name="lendinginstitution",
            name="loan_period_days",
            field=models.PositiveSmallIntegerField(
                default=14, validators=[core.bounds.InRange(1, 365)], verbose_name="usual loan period (days)"
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="colour_pages",
            field=models.PositiveIntegerField(
                default=0, validators=[core.bounds.InRange(0, 10000)], verbose_name="of which in colour"
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="due_date",
            field=models.DateField(
                blank=True,
                null=True,
                validators=[core.bounds.DateInRange(datetime.date(2000, 1, 1), datetime.date(2200, 12, 31))],
                verbose_name="due date",
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="estimate",
            field=models.PositiveIntegerField(
                blank=True,
                editable=False,
                help_text="What the order is expected to cost at the current lender; held on the budget until arrival.",
                null=True,
                validators=[core.bounds.InRange(0, 10000000)],
                verbose_name="estimated charge (yen)",
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="issue_date",
            field=models.DateField(
                blank=True,
                null=True,
                validators=[core.bounds.DateInRange(datetime.date(1400, 1, 1), datetime.date(2200, 12, 31))],
                verbose_name="issue date",
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="lender_due_date",
            field=models.DateField(
                blank=True,
                null=True,
                validators=[core.bounds.DateInRange(datetime.date(2000, 1, 1), datetime.date(2200, 12, 31))],
                verbose_name="lender's due date",
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="max_cost",
            field=models.PositiveIntegerField(
                blank=True, null=True, validators=[core.bounds.InRange(0, 10000000)], verbose_name="maximum cost (yen)"
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="not_needed_after",
            field=models.DateField(
                blank=True,
                null=True,
                validators=[core.bounds.DateInRange(datetime.date(2000, 1, 1), datetime.date(2200, 12, 31))],
                verbose_name="not needed after",
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="page_count",
            field=models.PositiveIntegerField(
                blank=True, null=True, validators=[core.bounds.InRange(1, 10000)], verbose_name="number of pages"
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="pub_year",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, validators=[core.bounds.InRange(1400, 2200)], verbose_name="year of publication"
            ),
        ),
        migrations.AlterField(
            model_name="request",
            name="work_total_pages",
            field=models.PositiveIntegerField(
                blank=True,
                null=True,
                validators=[core.bounds.InRange(1, 100000)],
                verbose_name="total pages of the work",
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("new_lender_due_date__gte", datetime.date(2000, 1, 1)),
                    ("new_lender_due_date__lte", datetime.date(2200, 12, 31)),
                ),
                name="extension_new_lender_due_date_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("new_due_date__gte", datetime.date(2000, 1, 1)), ("new_due_date__lte", datetime.date(2200, 12, 31))
                ),
                name="extension_new_due_date_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendinginstitution",
            constraint=models.CheckConstraint(
                condition=models.Q(("loan_period_days__gte", 1), ("loan_period_days__lte", 365)),
                name="lender_loan_period_days_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(("pub_year__gte", 1400), ("pub_year__lte", 2200)), name="request_pub_year_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(("page_count__gte", 1), ("page_count__lte", 10000)), name="request_page_count_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(("colour_pages__gte", 0), ("colour_pages__lte", 10000)),
                name="request_colour_pages_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(("work_total_pages__gte", 1), ("work_total_pages__lte", 100000)),
                name="request_work_total_pages_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("issue_date__gte", datetime.date(1400, 1, 1)), ("issue_date__lte", datetime.date(2200, 12, 31))
                ),
                name="request_issue_date_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("not_needed_after__gte", datetime.date(2000, 1, 1)),
                    ("not_needed_after__lte", datetime.date(2200, 12, 31)),
                ),
                name="request_not_needed_after_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(("max_cost__gte", 0), ("max_cost__lte", 10000000)), name="request_max_cost_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(("estimate__gte", 0), ("estimate__lte", 10000000)), name="request_estimate_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("lender_due_date__gte", datetime.date(2000, 1, 1)),
                    ("lender_due_date__lte", datetime.date(2200, 12, 31)),
                ),
                name="request_lender_due_date_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("due_date__gte", datetime.date(2000, 1, 1)), ("due_date__lte", datetime.date(2200, 12, 31))
                ),
                name="request_due_date_range",
            ),
        ),
    ]
