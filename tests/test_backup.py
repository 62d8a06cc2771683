"""`manage.py backup_database`: a consistent copy of a running SQLite database."""

import os
import sqlite3
import stat
import subprocess
import sys

from tests.dashboard_processes import ROOT


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_backup_of_a_live_wal_database_opens_with_every_row(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="dashboard.settings")
    assert manage("migrate", "--noinput", env=env).returncode == 0
    # A row committed but (with the write-ahead log) still only in the -wal file.
    live = sqlite3.connect(database)
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute(
        "INSERT INTO recordings_app_auditevent (at, username, action, recording_id, "
        "credential_label, space, detail, user_agent) "
        "VALUES ('2026-12-01 10:00:00', 'alice', 'view', '', '', '', 'kept', '')"
    )
    live.commit()
    assert (tmp_path / "db.sqlite3-wal").stat().st_size > 0

    backup = tmp_path / "backup.sqlite3"
    done = manage("backup_database", str(backup), env=env)
    assert done.returncode == 0, done.stderr
    assert "checked" in done.stdout
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT detail FROM recordings_app_auditevent").fetchall() == [("kept",)]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    live.close()

    again = manage("backup_database", str(backup), env=env)
    assert again.returncode != 0 and "exists already" in again.stderr
