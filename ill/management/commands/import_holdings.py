"""Import the library's holdings: `manage.py import_holdings export.csv` (or .mrc / .xml)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ill.holdings import import_holdings


class Command(BaseCommand):
    help = "Import local holdings from a CSV or MARC (ISO 2709 / MARCXML) export of the catalogue. Safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=["csv", "marc"], help="Default: from the file name (.csv or MARC).")

    def handle(self, *args, path: Path, format=None, **options):
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        fmt = format or ("csv" if path.suffix.lower() in (".csv", ".txt", ".tsv") else "marc")
        data = path.read_bytes()
        with tqdm(desc=path.name, unit=" records", disable=options["verbosity"] == 0) as bar:
            report = import_holdings(data, fmt, progress=bar.update)
        for line, message in report.errors:
            self.stderr.write(f"{path.name}:{line}: {message}")
        self.stdout.write(
            self.style.SUCCESS(f"{report.created} created, {report.updated} updated, {len(report.errors)} problem(s)")
        )
