"""Bring the reports' monthly rollup up to date, or rebuild it from the requests (--rebuild)."""

import time

from django.core.management.base import BaseCommand

from reports import rollup


class Command(BaseCommand):
    help = "Refresh the monthly figures the report pages read (only the months changed since the last refresh)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Recompute every month from the requests.")

    def handle(self, *args, **options):
        started = time.monotonic()
        outcome = rollup.refresh(rebuild=options["rebuild"], wait=True)
        self.stdout.write(
            f"Report figures: {outcome['months']} month(s) recomputed in {time.monotonic() - started:.1f} s."
        )
