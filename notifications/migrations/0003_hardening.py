# Placeholder in the chain, filled by hand by the work it is named after (issue 12).
from django.db import migrations, models
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Replace

import notifications.models


def keep_the_ids_already_sent(apps, schema_editor):
    """A row written before this migration went out (or goes out again, if it was in flight) with
    the id deliver() used to build from its key and pk: store exactly that one."""
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")
    # Only what may still be sent: a sent message's id no longer matters, and years of sent rows
    # (3.4 million in the benchmark's data set) would make this one long UPDATE.
    OutboxMessage.objects.filter(message_id="").exclude(status="sent").update(
        message_id=Concat(
            Value("<"),
            Replace(F("idempotency_key"), Value(":"), Value(".")),
            Value("."),
            Cast("id", CharField()),
            Value("@ill-desk>"),
            output_field=CharField(),
        )
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_outbox_kind")]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="message_id",
            field=models.CharField(default="", editable=False, max_length=255, verbose_name="Message-ID"),
            preserve_default=False,
        ),
        migrations.RunPython(keep_the_ids_already_sent, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="outboxmessage",
            name="message_id",
            field=models.CharField(
                default=notifications.models.new_message_id, editable=False, max_length=255, verbose_name="Message-ID"
            ),
        ),
    ]
