"""SignalWire does not document the RELAY list's order: a sync must lose nothing
whatever order it comes in, and reads it all where it cannot trust the order."""

import uuid
from datetime import UTC, datetime, timedelta

from demo_space import DEMO_PROJECT_ID, DemoSpace
from recordings_app import index
from recordings_app.models import Credential
from recordings_app.signalwire import Recording, RecordingPage

LIST = "/api/relay/rest/recordings"


def indexed_ids(credential) -> set[str]:
    return set(index.indexed_recordings(credential).values_list("recording_id", flat=True))


def relay_requests(space) -> list[str]:
    return [path for _, path, _ in space.request_log if path.startswith(LIST + "?")]


def test_an_incremental_pass_over_an_oldest_first_list_indexes_every_recording(alice, settings):
    with DemoSpace(relay_order="oldest", count=450) as space:
        settings.SIGNALWIRE_BASE_URL = space.base_url
        credential = Credential.objects.get(user=alice)
        index.run_sync(credential, page_size=100)
        added = [space.add_recording(DEMO_PROJECT_ID)["id"] for _ in range(3)]

        index.run_sync(credential, page_size=100)

        upstream = {r["id"] for r in space.recordings(DEMO_PROJECT_ID)}
        assert set(added) <= indexed_ids(credential)
        assert upstream <= indexed_ids(credential)
        # The first (full) pass saw the order; every later pass reads the list to the end.
        state = index.sync_state(credential)
        assert not state.relay_newest_first and not state.full_pass
        space.clear_request_log()
        index.run_sync(credential, page_size=100)
        assert len(relay_requests(space)) == 5  # 453 recordings, 100 a page


def test_a_list_that_stops_being_newest_first_is_read_to_the_end_and_remembered(alice, settings):
    with DemoSpace(count=450) as space:
        settings.SIGNALWIRE_BASE_URL = space.base_url
        credential = Credential.objects.get(user=alice)
        index.run_sync(credential, page_size=100)
        assert index.sync_state(credential).relay_newest_first
        space.relay_order = "oldest"
        added = space.add_recording(DEMO_PROJECT_ID)["id"]
        gone = space.recordings(DEMO_PROJECT_ID)[0]["id"]  # the oldest: in no recheck window
        space.delete_recording(DEMO_PROJECT_ID, gone)
        space.clear_request_log()

        state = index.run_sync(credential, page_size=100)

        assert not state.full_pass and not state.relay_newest_first
        assert len(relay_requests(space)) == 5  # it went on past the horizon, to the end
        upstream = {r["id"] for r in space.recordings(DEMO_PROJECT_ID)}
        assert added in indexed_ids(credential) and upstream <= indexed_ids(credential)
        # Having read it all, the pass reconciled it all.
        assert gone not in indexed_ids(credential)


def test_a_newest_first_list_still_ends_an_incremental_pass_at_its_horizon(alice, settings):
    with DemoSpace(count=450) as space:
        settings.SIGNALWIRE_BASE_URL = space.base_url
        credential = Credential.objects.get(user=alice)
        index.run_sync(credential, page_size=100)
        space.add_recording(DEMO_PROJECT_ID)
        space.clear_request_log()

        index.run_sync(credential, page_size=100)

        assert len(relay_requests(space)) < 5
        assert index.sync_state(credential).relay_newest_first


def test_when_the_newest_recording_is_deleted_an_incremental_pass_reads_on(alice, demo_space):
    # Without the newest recording it knew, a pass cannot tell that the first page holds
    # the newest ones: it reads on, and loses nothing.
    credential = Credential.objects.get(user=alice)
    index.run_sync(credential, page_size=500)
    newest = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    demo_space.delete_recording(DEMO_PROJECT_ID, newest)
    demo_space.clear_request_log()

    index.run_sync(credential, page_size=500)

    assert len(relay_requests(demo_space)) == 4
    assert newest not in indexed_ids(credential)
    assert index.sync_state(credential).relay_newest_first  # the order itself was fine


# SignalWire could send pages that are each newest first but come oldest page first; the
# demo space cannot, so a client that serves fixed pages stands in for it.

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def recording(created_at: datetime) -> Recording:
    return Recording(id=str(uuid.uuid4()), created_at=created_at, source="pstn", status="finished")


class FixedPages:
    """A client whose RELAY list is the given pages, in order; Compatibility's is empty."""

    def __init__(self, *pages):
        self.pages = pages
        self.asked = 0

    def list_recordings(self, cursor=None, page_size=50):
        number = int(cursor or 0)
        self.asked += 1
        following = str(number + 1) if number + 1 < len(self.pages) else None
        return RecordingPage(tuple(self.pages[number]), following, None, None)

    def list_compat_recordings(self, cursor=None, page_size=50, created_after=None):
        return RecordingPage((), None, None, None)


def test_pages_in_order_each_but_oldest_page_first_are_read_to_the_end(alice):
    credential = Credential.objects.get(user=alice)
    known = [recording(NOW), recording(NOW - timedelta(days=5))]
    index.run_sync(credential, client=FixedPages(known))
    new = recording(NOW + timedelta(hours=1))
    # The first page is in order and reaches past the horizon (three days before NOW),
    # but holds nothing as new as NOW: only the next page shows the order.
    pages = FixedPages(
        [recording(NOW - timedelta(days=4)), known[1]],
        [new, known[0]],
    )

    index.run_sync(credential, client=pages)

    assert pages.asked == 2
    assert new.id in indexed_ids(credential)
    assert not index.sync_state(credential).relay_newest_first


def test_the_order_rule_reads_times_within_and_across_pages():
    day = timedelta(days=1)
    assert index.newest_first([NOW, NOW, NOW - day], None)
    assert not index.newest_first([NOW - day, NOW], None)
    assert index.newest_first([NOW - day, NOW - 2 * day], before=NOW - day)
    assert not index.newest_first([NOW, NOW - 2 * day], before=NOW - day)
    assert index.newest_first([], before=NOW)
