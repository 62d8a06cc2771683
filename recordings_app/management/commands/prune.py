"""`manage.py prune`: retention by hand, as the worker's scheduler runs it once a day."""

from django.core.management.base import BaseCommand

from recordings_app import retention


class Command(BaseCommand):
    help = (
        "Delete audit events, log-in attempts and finished task records older than "
        "AUDIT_RETENTION_DAYS, LOGIN_ATTEMPT_RETENTION_DAYS and TASK_RESULT_RETENTION_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, **options):
        self.stdout.write(str(retention.run(dry_run=options["dry_run"])))
