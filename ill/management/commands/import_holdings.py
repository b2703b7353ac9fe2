"""Import the library's holdings: `manage.py import_holdings export.csv` (or .mrc / .xml).

The same job as the admin's upload (ill.holdings.run_job: read and check into the staging table,
then one transaction), run here synchronously with a progress bar; all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ill import holdings
from ill.models import HoldingsImport


class Command(BaseCommand):
    help = (
        "Import local holdings from a CSV or MARC (ISO 2709 / MARCXML) export of the catalogue. Safe to repeat. "
        "All or nothing: if any line has a problem, nothing is imported and the problems are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=["csv", "marc"], help="Default: from the file name (.csv or MARC).")

    def handle(self, *args, path: Path, format=None, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        fmt = format or ("csv" if path.suffix.lower() in (".csv", ".txt", ".tsv") else "marc")
        data = path.read_bytes()
        job = holdings.create_job(data, fmt, file_name=path.name, keep_data=False)
        with tqdm(desc=path.name, total=job.lines_total, unit=" lines", disable=options["verbosity"] == 0) as bar:
            job = holdings.run_job(job.pk, data=data, on_progress=lambda read: bar.update(max(0, read - bar.n)))
        for line, message in job.errors:
            self.stderr.write(f"{path.name}:{line}: {message}")
        if job.error_count > len(job.errors):
            self.stderr.write(f"{path.name}: … and {job.error_count - len(job.errors)} more problem(s)")
        if job.state != HoldingsImport.State.DONE:
            raise CommandError(f"{path.name}: {job.message}")
        self.stdout.write(self.style.SUCCESS(f"{job.created_count} created, {job.updated_count} updated"))
