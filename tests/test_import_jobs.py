"""The two import jobs (ill.HoldingsImport, patrons.PatronImport) keep their file, progress,
heartbeat, problems and outcome in one abstract model, core.models.ImportJob, which changed none
of their tables."""

import pytest
from django.core.management import call_command

from core.models import ImportJob
from ill.models import HoldingsImport
from patrons.models import PatronImport

SHARED = ["file_name", "file_size", "data", "error_count", "errors", "message", "created_at", "started_at"]


def test_both_import_jobs_are_import_jobs():
    for model in (HoldingsImport, PatronImport):
        assert issubclass(model, ImportJob) and not model._meta.abstract
        assert model._meta.ordering == ["-created_at", "-id"]
        for name in [*SHARED, "heartbeat_at", "finished_at", "lines_total", "lines_read"]:
            assert model._meta.get_field(name)
    # each keeps its own words for its lines
    assert str(HoldingsImport._meta.get_field("lines_read").verbose_name) != str(
        PatronImport._meta.get_field("lines_read").verbose_name
    )


@pytest.mark.django_db
def test_the_abstract_model_needs_no_migration():
    call_command("makemigrations", "ill", "patrons", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_a_job_reads_as_its_file_and_state():
    job = HoldingsImport.objects.create(fmt="csv", file_name="holdings.csv")
    assert str(job) == f"holdings.csv ({job.get_state_display()})"
