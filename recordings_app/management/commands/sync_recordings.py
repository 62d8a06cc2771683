from django.core.management.base import BaseCommand, CommandError

from recordings_app import index
from recordings_app.errors import explain
from recordings_app.models import Credential
from recordings_app.signalwire import SignalWireError


class Command(BaseCommand):
    help = (
        "Sync the recordings index in the foreground, for every stored credential or one "
        "user's, printing progress (for cron jobs and scripts). Resumes a pass a killed "
        "worker left half done."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="only this user's credentials (username)")
        parser.add_argument(
            "--full", action="store_true", help="read every page, not only what is new"
        )

    def handle(self, *args, user=None, full=False, **options):
        credentials = Credential.objects.select_related("user").order_by("user__username", "pk")
        if user is not None:
            credentials = credentials.filter(user__username=user)
            if not credentials.exists():
                raise CommandError(f"No credentials stored for user {user!r}.")
        failures = 0
        for credential in credentials:
            name = f"{credential.user.get_username()} / {credential.label}"
            self.stdout.write(f"{name}: syncing…")

            def report(state, name=name):
                self.stdout.write(
                    f"  {name}: page {state.pages_read}, {state.recordings_seen} recordings"
                )

            try:
                state = index.run_sync(credential, full=full, on_page=report)
            except SignalWireError as error:
                failures += 1
                explanation = explain(error)
                self.stderr.write(f"  {name}: failed: {explanation.title}. {explanation.message}")
                continue
            if state is None:
                self.stdout.write(f"  {name}: another sync is running; skipped.")
            else:
                kind = "full" if state.full_pass else "incremental"
                self.stdout.write(
                    self.style.SUCCESS(
                        f"  {name}: done ({kind}), {state.pages_read} pages, "
                        f"{state.recordings_seen} recordings read."
                    )
                )
                for words in state.unavailable.values():
                    self.stdout.write(self.style.WARNING(f"  {name}: not indexed: {words}."))
        if failures:
            raise CommandError(f"{failures} credential(s) could not be synced.")
