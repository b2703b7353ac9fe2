"""The admin's holdings import as a job (issue 12, finding 3): the upload is stored and answered at
once, a Celery task imports it all or nothing, the page polls its progress as JSON, a too-large
file is a form error, a crash or a lost worker leaves the holdings unchanged and the job failed."""

import datetime
import io
import os
import signal
import time
from pathlib import Path

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ill import holdings, tasks
from ill.admin import SizeLimitedUpload
from ill.models import HoldingsImport, HoldingsImportRow, LocalHolding, LocalHoldingIdentifier
from tests.ill.test_holdings import CSV, GOOD_CSV, ISO, MALFORMED_XML
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

IMPORT = "/admin/ill/localholding/import/"


@pytest.fixture
def admin_en(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def upload(client, data: bytes, fmt="csv", name="holdings.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(IMPORT, {"file": file, "format": fmt})


def big_csv(lines: int) -> bytes:
    rows = "".join(f"B{n:06d},Title {n},Author {n},913.6/{n},available,,,\n" for n in range(lines))
    return ("record_id,title,author,call_number,status,isbn,issn,electronic\n" + rows).encode()


def test_the_upload_is_answered_at_once_and_the_task_imports_after_commit(
    admin_en, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(admin_en, GOOD_CSV.encode())
    job = HoldingsImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{IMPORT}{job.pk}/"
    assert (job.state, job.started_by, job.file_name, job.fmt) == ("queued", admin_user, "holdings.csv", "csv")
    assert bytes(job.data) == GOOD_CSV.encode()  # where a worker in another container reads it
    assert LocalHolding.objects.count() == 0
    page = admin_en.get(response["Location"])
    assert b"<progress" in page.content and b'data-state="queued"' in page.content
    assert b"js/import-job.js" in page.content and b"Refresh" in page.content
    assert len(callbacks) == 1
    callbacks[0]()  # the task, eagerly, as `make run` does after the commit
    job.refresh_from_db()
    assert (job.state, job.created_count, job.lines_read) == ("done", 4, 5)
    assert bytes(job.data) == b""
    page = admin_en.get(response["Location"]).content.decode()
    assert "4 created, 0 updated." in page and 'data-state="done"' in page and 'value="5"' in page


def test_with_the_eager_default_the_page_after_the_upload_shows_the_result(
    admin_en, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_en, GOOD_CSV.encode())
    page = admin_en.get(response["Location"])
    assert page.status_code == 200 and "4 created, 0 updated." in page.content.decode()
    assert LocalHolding.objects.count() == 4


@pytest.mark.parametrize(
    ("data", "fmt", "expected"),
    [
        (CSV.encode(), "csv", "<td>6</td><td>no record ID</td>"),
        (b"record_id,title\nB1,T\x00\n", "csv", "<td>2</td><td>the file contains a NUL byte"),
        (b'record_id,title\nB1,"' + b"x" * 140_000 + b'"\n', "csv", "<td>2</td><td>a field is longer than"),
        (MALFORMED_XML, "marc", "<td>2</td><td>line 6, column"),
        (b"<?xml version='1.0'?><x/>", "marc", "no MARC records found — is this a MARCXML export?"),
        (ISO[:-10], "marc", "<td>2</td><td>the file ends in the middle of this record"),
        (b"", "csv", "The submitted file is empty."),  # the form says so (400)
    ],
)
def test_a_bad_file_through_the_admin_is_a_report_never_a_500(
    admin_en, django_capture_on_commit_callbacks, data, fmt, expected
):
    LocalHolding.objects.create(source_id="KEEP", title="Kept")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_en, data, fmt)
    if response.status_code == 400:
        assert expected in response.content.decode()
        return
    assert response.status_code == 302
    page = admin_en.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200 and expected in text, text[-3000:]
    assert 'data-state="failed"' in text
    assert "nothing was imported" in text or "no MARC records" in text
    assert list(LocalHolding.objects.values_list("source_id", flat=True)) == ["KEEP"]


def test_a_file_over_the_limit_is_a_form_error_not_a_500(admin_en, settings):
    settings.HOLDINGS_IMPORT_MAX_MB = 1
    response = upload(admin_en, big_csv(1) + b"x" * (1024 * 1024 + 10))
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()
    assert not HoldingsImport.objects.exists()
    assert upload(admin_en, big_csv(10)).status_code == 302  # under the limit


def test_a_file_over_djangos_memory_limits_but_under_ours_is_accepted(admin_en, settings):
    """DATA_UPLOAD_MAX_MEMORY_SIZE and FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) do not refuse a file."""
    data = big_csv(60_000)
    assert len(data) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    assert upload(admin_en, data).status_code == 302
    assert HoldingsImport.objects.get().file_size == len(data)


def test_the_upload_still_needs_its_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    file = io.BytesIO(GOOD_CSV.encode())
    file.name = "h.csv"
    assert client.post(IMPORT, {"file": file, "format": "csv"}).status_code == 403
    assert not HoldingsImport.objects.exists()


def test_the_limit_stops_storing_the_upload():
    handler = SizeLimitedUpload(None, limit=10)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"678901", 5)
    assert handler.exceeded


def test_the_status_json(admin_en):
    job = holdings.create_job(GOOD_CSV.encode(), "csv", file_name="h.csv")
    HoldingsImport.objects.filter(pk=job.pk).update(
        state="running", step="reading", lines_read=2, heartbeat_at=timezone.now()
    )
    data = admin_en.get(f"{IMPORT}{job.pk}/status.json").json()
    assert data == {
        "id": job.pk,
        "state": "running",
        "state_label": "Running",
        "step": "reading",
        "step_label": "Reading and checking the file",
        "lines_read": 2,
        "lines_total": 5,
        "percent": 40,
        "created": 0,
        "updated": 0,
        "problems": 0,
        "message": "",
        "finished": False,
        "page": f"{IMPORT}{job.pk}/",
    }
    holdings.run_job(job.pk)
    assert HoldingsImport.objects.get(pk=job.pk).state == "running"  # not queued: not started twice
    HoldingsImport.objects.filter(pk=job.pk).update(state="queued")
    holdings.run_job(job.pk)
    data = admin_en.get(f"{IMPORT}{job.pk}/status.json").json()
    assert (data["state"], data["percent"], data["created"], data["finished"]) == ("done", 100, 4, True)


def test_the_status_and_job_pages_are_for_the_admin_only(client, staff_user):
    job = holdings.create_job(GOOD_CSV.encode(), "csv")
    anonymous = client.get(f"{IMPORT}{job.pk}/status.json")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    client.force_login(staff_user)  # desk staff: no permission to add holdings
    assert client.get(f"{IMPORT}{job.pk}/status.json").status_code == 403
    assert client.get(f"{IMPORT}{job.pk}/").status_code == 302
    assert client.post(IMPORT, {"format": "csv"}).status_code == 302
    assert HoldingsImport.objects.count() == 1


def test_the_progress_moves_on_a_file_of_bad_lines_too(monkeypatch):
    monkeypatch.setattr(holdings, "CHUNK", 10)
    seen = []
    data = "record_id,title,status\n" + "".join(f"B{n},Title,odd\n" for n in range(35))
    job = holdings.import_holdings(data.encode(), "csv", on_progress=seen.append)
    assert seen == [11, 21, 31] and job.state == "failed" and job.error_count == 35


def test_the_task_runs_the_job():
    job = holdings.create_job(GOOD_CSV.encode(), "csv")
    tasks.import_holdings_task.delay(job.pk)
    assert HoldingsImport.objects.get(pk=job.pk).state == "done"
    assert tasks.import_holdings_task.soft_time_limit >= 1800  # not the 90 s of the other jobs


def test_a_crash_in_the_swap_leaves_the_holdings_unchanged(monkeypatch):
    """Everything is written, then the last statement of the transaction fails: all rolled back."""
    imported = holdings.import_holdings(GOOD_CSV.encode(), "csv")
    assert imported.state == "done"
    before = set(LocalHolding.objects.values_list("source_id", "title", "call_number", "status"))
    identifiers = set(LocalHoldingIdentifier.objects.values_list("holding__source_id", "scheme", "value"))
    real = holdings._finish

    def crash_at_the_end(job_id, state, message, **values):
        if state == HoldingsImport.State.DONE:
            raise RuntimeError("disk full")
        return real(job_id, state, message, **values)

    monkeypatch.setattr(holdings, "_finish", crash_at_the_end)
    changed = GOOD_CSV.replace("913.6/N,available", "913.6/N/2,on_loan").replace("9780262046305", "")
    job = holdings.import_holdings((changed + "BIB010,New,,,,,,\n").encode(), "csv")
    assert job.state == "failed" and "disk full" in job.message and "not changed" in job.message
    assert set(LocalHolding.objects.values_list("source_id", "title", "call_number", "status")) == before
    assert set(LocalHoldingIdentifier.objects.values_list("holding__source_id", "scheme", "value")) == identifiers
    assert HoldingsImportRow.objects.count() == 0


def test_the_time_limit_fails_the_job_and_changes_nothing(monkeypatch):
    def slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(holdings, "swap", slow)
    job = holdings.import_holdings(GOOD_CSV.encode(), "csv")
    assert job.state == "failed" and "SoftTimeLimitExceeded" in job.message
    assert LocalHolding.objects.count() == 0


def test_a_job_whose_worker_died_is_marked_failed_when_looked_at(admin_en):
    job = holdings.create_job(GOOD_CSV.encode(), "csv")
    now = timezone.now()
    HoldingsImport.objects.filter(pk=job.pk).update(state="running", step="reading", heartbeat_at=now)
    HoldingsImportRow.objects.create(job=job, line=2, source_id="BIB001", title="x", status="available")
    assert admin_en.get(f"{IMPORT}{job.pk}/status.json").json()["state"] == "running"  # alive
    with time_machine.travel(now + holdings.STALE_AFTER + datetime.timedelta(seconds=5)):
        data = admin_en.get(f"{IMPORT}{job.pk}/status.json").json()
    assert data["state"] == "failed" and "worker stopped" in data["message"]
    assert HoldingsImportRow.objects.count() == 0 and LocalHolding.objects.count() == 0
    job.refresh_from_db()
    assert bytes(job.data) == b""


def test_a_job_marked_stale_meanwhile_is_not_applied():
    job = holdings.create_job(GOOD_CSV.encode(), "csv")
    HoldingsImport.objects.filter(pk=job.pk).update(state="running")
    problems = holdings.Problems()
    assert holdings.stage(job, GOOD_CSV.encode(), problems) == 4
    HoldingsImport.objects.filter(pk=job.pk).update(state="failed")  # as mark_stale_jobs does
    with pytest.raises(holdings.Superseded):
        holdings.swap(job)
    assert LocalHolding.objects.count() == 0


def test_the_import_page_lists_recent_jobs_and_states_the_rule(admin_en):
    holdings.import_holdings(CSV.encode(), "csv", file_name="bad.csv")
    page = admin_en.get(IMPORT).content.decode()
    assert "All or nothing:" in page and "bad.csv" in page and "Failed" in page
    assert "Files up to 100 MB" in page


@pytest.mark.postgres
def test_a_big_file_is_answered_at_once_and_imported_by_the_task(admin_en, django_capture_on_commit_callbacks):
    data = big_csv(50_000)
    LocalHolding.objects.create(source_id="B000001", title="Old")
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(admin_en, data)
    answered = time.monotonic() - started
    assert response.status_code == 302 and answered < 10, answered
    assert LocalHolding.objects.count() == 1
    started = time.monotonic()
    callbacks[0]()
    took = time.monotonic() - started
    job = HoldingsImport.objects.get()
    assert (job.state, job.created_count, job.updated_count) == ("done", 49_999, 1), job.message
    assert LocalHolding.objects.count() == 50_000 and LocalHolding.objects.get(source_id="B000001").title == "Title 1"
    print(f"50,000 lines: the upload answered in {answered:.2f} s, the task imported them in {took:.1f} s")


@pytest.mark.postgres
def test_the_staging_table_is_unlogged_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'ill_holdingsimportrow'")
        assert cursor.fetchone() == ("u",)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_in_another_process_imports_and_a_killed_one_changes_nothing(tmp_path, admin_en):
    LocalHolding.objects.create(source_id="B000001", title="Old")
    with running_worker(tmp_path, concurrency=1, queues="celery") as worker:
        response = upload(admin_en, GOOD_CSV.encode())
        assert response.status_code == 302
        job = HoldingsImport.objects.get()
        log = tmp_path / "worker.log"
        assert wait_until(lambda: HoldingsImport.objects.get(pk=job.pk).state == "done", 60), log.read_text()[-3000:]
        assert LocalHolding.objects.count() == 5

        upload(admin_en, big_csv(200_000))
        big = HoldingsImport.objects.latest("pk")
        assert wait_until(lambda: HoldingsImport.objects.get(pk=big.pk).lines_read > 0, 60), log.read_text()[-3000:]
        for pid in [*_children(worker.pid), worker.pid]:  # the pool's child runs the task: kill it too
            os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=20)
    big.refresh_from_db()
    assert big.state == "running"
    assert LocalHolding.objects.get(source_id="B000001").title == "Old"  # the big file never applied
    assert LocalHolding.objects.count() == 5
    with time_machine.travel(timezone.now() + holdings.STALE_AFTER + datetime.timedelta(minutes=1)):
        assert admin_en.get(f"{IMPORT}{big.pk}/status.json").json()["state"] == "failed"
    assert LocalHolding.objects.count() == 5 and not HoldingsImportRow.objects.exists()


def test_with_the_broker_down_the_upload_fails_at_once_with_a_message(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    """The task cannot be queued: not a 500 and a job left "queued" for ever with its file."""

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.import_holdings_task, "delay", down)
    upload = SimpleUploadedFile("h.csv", b"source_id,title\nB1,A book\n", content_type="text/csv")
    url = reverse("admin:ill_localholding_import")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"file": upload, "format": "csv"})
    assert response.status_code == 302
    response = admin_client.get(response["Location"])
    assert response.status_code == 200
    job = HoldingsImport.objects.get()
    assert job.state == HoldingsImport.State.FAILED and job.data == b""
    assert not LocalHolding.objects.exists()


def test_a_queued_job_no_worker_took_is_failed_after_a_while():
    job = holdings.create_job(b"source_id,title\nB1,A book\n", "csv", file_name="h.csv", user=None)
    HoldingsImport.objects.filter(pk=job.pk).update(created_at=timezone.now() - holdings.STALE_AFTER * 2)
    holdings.mark_stale_jobs()
    job.refresh_from_db()
    assert job.state == HoldingsImport.State.FAILED and job.data == b""
