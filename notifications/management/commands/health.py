"""`manage.py health`: database, broker, Celery workers and the outbox; exit status 1 when unhealthy."""

import json

from django.core.management.base import BaseCommand, CommandError

from notifications.health import report


class Command(BaseCommand):
    help = "Report the health of the database, the Celery broker and workers, and the e-mail outbox."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument("--no-workers", action="store_true", help="Do not ping the workers.")

    def handle(self, *args, **options):
        result = report(check_workers=not options["no_workers"])
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            for name in ("database", "broker", "workers", "outbox"):
                if name in result:
                    part = result[name]
                    status = self.style.SUCCESS("ok") if part["ok"] else self.style.ERROR("FAIL")
                    details = ", ".join(f"{k}={v}" for k, v in part.items() if k != "ok")
                    self.stdout.write(f"{name:9} {status}  {details}")
        if not result["ok"]:
            raise CommandError("unhealthy")
