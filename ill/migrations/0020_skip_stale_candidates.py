"""Candidates left 'waiting' on requests that had already arrived or were closed (before the arrival,
cancellation and rejection services skipped them) are marked skipped, as those services now do."""

from django.db import migrations
from django.db.models import Q


def skip_stale(apps, schema_editor):
    LenderCandidate = apps.get_model("ill", "LenderCandidate")
    finished = Q(request__arrived_at__isnull=False) | Q(request__status__in=["cancelled", "rejected", "closed"])
    LenderCandidate.objects.filter(finished, state="waiting").update(state="skipped")


class Migration(migrations.Migration):
    dependencies = [("ill", "0019_refusal_log")]

    operations = [migrations.RunPython(skip_stale, migrations.RunPython.noop, elidable=True)]
