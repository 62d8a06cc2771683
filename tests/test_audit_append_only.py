"""The audit table is append-only in the database itself (migration 0010): no queryset,
raw SQL or deleted user changes or removes a row; only retention, for rows past its
horizon and never younger than four weeks."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from recordings_app import retention
from recordings_app.models import AuditEvent, Credential

pytestmark = [pytest.mark.no_upstream, pytest.mark.django_db]
Action = AuditEvent.Action


@pytest.fixture
def event(alice):
    return AuditEvent.objects.create(
        user=alice, username="alice", action=Action.VIEW, recording_id="rec-1"
    )


def old_event(days: int, **fields) -> AuditEvent:
    return AuditEvent.objects.create(
        username="alice", action=Action.VIEW, at=timezone.now() - timedelta(days=days), **fields
    )


def refused(statement):
    """Runs `statement` in a savepoint and says whether the database refused it."""
    try:
        with transaction.atomic():
            statement()
    except IntegrityError as error:
        assert "Audit events are never" in str(error)
        return True
    return False


def unchanged(event: AuditEvent) -> bool:
    row = AuditEvent.objects.get(pk=event.pk)
    return (row.at, row.username, row.detail, row.user_id, row.recording_id) == (
        event.at,
        event.username,
        event.detail,
        event.user_id,
        event.recording_id,
    )


def raw(sql: str, params=()):
    def statement():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return statement


def test_the_database_refuses_an_update_even_past_the_models_guard(event):
    everything = AuditEvent._base_manager.all()
    assert refused(lambda: everything.update(detail="rewritten"))
    assert refused(lambda: everything.filter(pk=event.pk).update(username="someone"))
    assert refused(lambda: everything.update(at=timezone.now() - timedelta(days=400)))
    # Clearing the user together with anything else is a change too.
    assert refused(lambda: everything.update(user=None, detail="rewritten"))
    assert unchanged(event)


def test_the_database_refuses_a_delete_even_past_the_models_guard(event):
    assert refused(lambda: AuditEvent._base_manager.filter(pk=event.pk).delete())
    assert refused(lambda: AuditEvent._base_manager.all()._raw_delete(connection.alias))
    assert unchanged(event)


def test_the_models_own_guards_still_refuse_first(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert unchanged(event)


def test_raw_sql_cannot_change_or_remove_a_row(event):
    assert refused(raw("UPDATE recordings_app_auditevent SET detail = 'rewritten'"))
    assert refused(
        raw("UPDATE recordings_app_auditevent SET username = %s WHERE id = %s", ["x", event.pk])
    )
    assert refused(raw("DELETE FROM recordings_app_auditevent"))
    assert refused(raw("DELETE FROM recordings_app_auditevent WHERE id = %s", [event.pk]))
    assert unchanged(event)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_is_refused_while_the_table_holds_rows(event):
    # The row's deferred foreign key check would block a TRUNCATE in its transaction.
    raw("SET CONSTRAINTS ALL IMMEDIATE")()
    assert refused(raw(f"TRUNCATE {AuditEvent._meta.db_table}"))
    assert unchanged(event)


def test_even_an_old_row_cannot_be_deleted_without_retentions_horizon():
    ancient = old_event(days=1000)
    assert refused(lambda: AuditEvent._base_manager.filter(pk=ancient.pk).delete())
    assert unchanged(ancient)


def test_the_trigger_keeps_the_last_four_weeks_whatever_horizon_it_is_told():
    recent = old_event(days=27)
    with transaction.atomic(), connection.cursor() as cursor:
        # A horizon in the future (a bug, or someone borrowing retention's door).
        retention.allow_audit_deletes_before(cursor, timezone.now() + timedelta(days=1))
        assert refused(lambda: AuditEvent._base_manager.filter(pk=recent.pk).delete())
    assert unchanged(recent)


def test_the_horizon_ends_with_retentions_transaction():
    ancient = old_event(days=1000)
    assert retention.prune_audit_events(timezone.now() - timedelta(days=500)) == 1
    again = old_event(days=1000)
    assert refused(lambda: AuditEvent._base_manager.filter(pk=again.pk).delete())
    assert not AuditEvent.objects.filter(pk=ancient.pk).exists()


def test_deleting_a_user_keeps_their_audit_rows_by_name(alice, event):
    alice.delete()
    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.user_id, row.username, row.action, row.recording_id, row.at) == (
        None,
        "alice",
        Action.VIEW,
        "rec-1",
        event.at,
    )


def test_deleting_a_credential_keeps_the_audit_rows_that_name_it(alice):
    credential = Credential.objects.get(user=alice)
    row = AuditEvent.objects.create(
        user=alice,
        username="alice",
        action=Action.CREDENTIAL_ADD,
        credential_label=credential.label,
        space=credential.space,
    )
    credential.delete()
    assert AuditEvent.objects.get(pk=row.pk).credential_label == credential.label


def test_a_user_with_many_audit_rows_can_be_deleted(alice):
    for number in range(5):
        AuditEvent.objects.create(
            user=alice, username="alice", action=Action.VIEW, detail=str(number)
        )
    User.objects.filter(pk=alice.pk).delete()
    assert list(AuditEvent.objects.values_list("user_id", flat=True)) == [None] * 5


def test_the_triggers_are_in_place():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            names = {name for (name,) in cursor.fetchall()}
            assert {"recordings_audit_no_update", "recordings_audit_no_delete"} <= names
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass",
                [AuditEvent._meta.db_table],
            )
            names = {name for (name,) in cursor.fetchall()}
            assert {"recordings_audit_no_change", "recordings_audit_no_truncate"} <= names
