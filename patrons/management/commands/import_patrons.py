"""Load patrons from the registrar's CSV: `manage.py import_patrons FILE [--complete] [--dry-run]`.

The same job as the admin's "Import from the registrar" (patrons.registrar.run_job), run here
synchronously with a progress bar: with --dry-run it only checks and prints what would change;
without, it checks and applies in one transaction, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from patrons import registrar
from patrons.models import PatronImport


class Command(BaseCommand):
    help = (
        "Load patrons from the registrar's CSV (UTF-8 or Shift_JIS): new ones created, changed ones updated, "
        "returners reactivated; with --complete, active patrons of the file's categories missing from it are "
        "marked as having left (never deleted). Safe to repeat. All or nothing: if any line has a problem, "
        "nothing is changed and the problems are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--complete",
            action="store_true",
            help="The file is the complete list: patrons of its categories who are not in it leave.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only check and show what would change.")

    def handle(self, *args, path: Path, complete=False, dry_run=False, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        data = path.read_bytes()
        try:
            total = registrar.estimate_total(data)
            with tqdm(desc=path.name, total=total, unit=" lines", disable=options["verbosity"] == 0) as bar:
                job = registrar.import_patrons(
                    data,
                    complete=complete,
                    dry_run=dry_run,
                    file_name=path.name,
                    on_progress=lambda read: bar.update(max(0, read - bar.n)),
                )
        except registrar.TooLarge as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        for line, message in job.errors:
            self.stderr.write(f"{path.name}:{line}: {message}")
        if job.error_count > len(job.errors):
            self.stderr.write(f"{path.name}: … and {job.error_count - len(job.errors)} more problem(s)")
        if job.state not in (PatronImport.State.DONE, PatronImport.State.READY):
            raise CommandError(f"{path.name}: {job.message}")
        if job.state == PatronImport.State.READY:
            PatronImport.objects.filter(pk=job.pk).update(state=PatronImport.State.DISCARDED)
            self.stdout.write(f"Dry run, nothing changed: {job.message}")
            for kind in ("new", "changed", "returning", "leaving"):
                for line, number, name, detail in job.samples.get(kind, []):
                    detail = (
                        "; ".join(f"{k}: {old} → {new}" for k, old, new in detail)
                        if isinstance(detail, list)
                        else detail
                    )
                    self.stdout.write(f"  {kind:9} {number:12} {name}  {detail}" + (f"  (line {line})" if line else ""))
        else:
            self.stdout.write(self.style.SUCCESS(f"Applied: {job.message}"))
