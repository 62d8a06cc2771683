"""`manage.py backup_database PATH`: a consistent copy of the SQLite database, taken with
SQLite's online backup API while the dashboard keeps running.

Copying the file itself is not a backup: with the write-ahead log, recent commits live
in the -wal file until a checkpoint, and a copy taken mid-write can be torn. The backup
API copies page by page under SQLite's own locking and gives a database that opens as
of one moment. For PostgreSQL, use pg_dump (the README says what to keep)."""

import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Write a consistent copy of the SQLite database to PATH (online, no downtime)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="where to write the copy (must not exist)")

    def handle(self, *args, path, **options):
        if connection.vendor != "sqlite":
            raise CommandError(
                f"The database is {connection.vendor}, not SQLite: back it up with its own "
                "tools (pg_dump for PostgreSQL)."
            )
        target = Path(path)
        if target.exists():
            raise CommandError(f"{target} exists already; choose a new file.")
        source = sqlite3.connect(str(connection.settings_dict["NAME"]))
        copy = sqlite3.connect(str(target))
        try:
            with copy:
                source.backup(copy)
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if check != "ok":
            raise CommandError(f"The copy failed SQLite's integrity check: {check}")
        target.chmod(0o600)  # it holds the audit trail and the encrypted tokens
        self.stdout.write(f"Wrote {target} ({target.stat().st_size} bytes), checked.")
