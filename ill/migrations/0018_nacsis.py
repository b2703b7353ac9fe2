import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ill", "0017_report_indexes")]

    operations = [
        migrations.AddField(
            model_name="lendinginstitution",
            name="nacsis_participant_id",
            field=models.CharField(
                blank=True,
                help_text="The lender's participant organisation ID in NACSIS-ILL (AMLID), e.g. FA004321.",
                max_length=8,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z0-9]{1,8}$",
                        "A NACSIS participant ID is at most 8 letters and digits (for example FA004321).",
                    )
                ],
                verbose_name="NACSIS participant ID",
            ),
        ),
        migrations.AddField(
            model_name="lendinginstitution",
            name="offset_member_number",
            field=models.CharField(
                blank=True,
                help_text="The lender's number in the NACSIS-ILL fee-offset (料金相殺利用機関番号), if known.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z0-9]{1,10}$", "A fee-offset member number is at most 10 letters and digits."
                    )
                ],
                verbose_name="fee-offset member number",
            ),
        ),
        migrations.AddField(
            model_name="request",
            name="nacsis_ill_id",
            field=models.CharField(
                blank=True,
                help_text="The ILL record's ID in NACSIS-ILL (12 characters); the same through every lender asked.",
                max_length=12,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z0-9]{12}$",
                        "A NACSIS-ILL ID is 12 letters and digits (for example FA12345678AB); “%(value)s” is not.",
                    )
                ],
                verbose_name="NACSIS-ILL ID",
            ),
        ),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(
                condition=models.Q(("nacsis_ill_id", ""), _negated=True),
                fields=["nacsis_ill_id"],
                name="request_nacsis_ill_id",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendinginstitution",
            constraint=models.UniqueConstraint(
                condition=models.Q(("nacsis_participant_id", ""), _negated=True),
                fields=("nacsis_participant_id",),
                name="lender_nacsis_participant_unique",
                violation_error_message="Another lender already has this NACSIS participant ID.",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendinginstitution",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("nacsis_participant_id", ""), ("nacsis_participant_id__regex", "^[A-Z0-9]{1,8}$"), _connector="OR"
                ),
                name="lender_nacsis_participant_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="lendinginstitution",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("offset_member_number", ""), ("offset_member_number__regex", "^[A-Z0-9]{1,10}$"), _connector="OR"
                ),
                name="lender_offset_member_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(("nacsis_ill_id", ""), ("nacsis_ill_id__regex", "^[A-Z0-9]{12}$"), _connector="OR"),
                name="request_nacsis_ill_id_valid",
            ),
        ),
    ]
