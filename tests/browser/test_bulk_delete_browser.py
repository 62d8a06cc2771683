"""Bulk delete as a Supervisor sees it: filter the list, "Delete all matching…", the
preview, a mistyped then a right count, the progress bar moving while the worker
deletes, and the report, without reloading the page."""

import re

import pytest
from playwright.sync_api import expect

from demo_space import DEMO_PROJECT_ID
from recordings_app import deletions, index
from recordings_app.models import Credential, DeletionJob


@pytest.fixture
def long_calls(demo_space, alice):
    """Three long recordings (longer than any seeded one), indexed."""
    made = [
        demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=7000 + i) for i in range(3)
    ]
    index.run_sync(Credential.objects.get(user=alice), full=True)
    return [r["id"] for r in made]


def test_preview_typed_count_progress_and_report(alice_page, demo_space, long_calls, axe):
    page = alice_page
    page.get_by_text("Search and filter", exact=True).click()
    page.get_by_label("Shortest, in seconds").fill("6999")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("3 recordings", exact=False).first).to_be_visible()

    page.get_by_role("link", name="Delete all matching…").click()
    expect(page.get_by_role("heading", name="Delete all matching recordings?")).to_be_visible()
    summary = page.get_by_label("What would be deleted")
    expect(summary).to_contain_text("Recordings3")
    expect(summary).to_contain_text("Total cost$")
    assert axe(page) == []

    count = page.get_by_label(re.compile("To confirm, type the number of recordings"))
    count.fill("30")
    page.get_by_role("button", name="Delete 3 recordings").click()
    expect(page.get_by_role("alert")).to_have_text("Type 3 (the number of recordings) to confirm.")
    assert DeletionJob.objects.count() == 0

    page.get_by_label(re.compile("To confirm, type the number of recordings")).fill("3")
    page.get_by_role("button", name="Delete 3 recordings").click()
    page.wait_for_url(re.compile(r"/deletions/\d+/$"))
    progress = page.get_by_role("status").filter(has=page.locator("progress"))
    expect(progress).to_contain_text("Waiting for a worker")
    expect(progress).to_contain_text("0 of 3 done")

    # The worker deletes one, stops (a restart), and a worker goes on with the rest: the
    # page follows by itself.
    job = DeletionJob.objects.get()

    def stop_after_one(item):
        raise deletions.Stopped()

    with pytest.raises(deletions.Stopped):
        deletions.run(job.pk, on_item=stop_after_one)
    expect(progress).to_contain_text("1 of 3 done", timeout=6_000)
    expect(page.locator("progress")).to_have_attribute("value", "1")
    DeletionJob.objects.filter(pk=job.pk).update(heartbeat=None)  # its lease expired
    deletions.run(job.pk)

    expect(page.get_by_role("heading", name="Report")).to_be_visible(timeout=8_000)
    expect(page.get_by_text("3 deleted, 0 already gone, 0 failed, of 3")).to_be_visible()
    assert axe(page) == []
    upstream = {r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)}
    assert not upstream & set(long_calls)
