"""The recordings list as it comes live from SignalWire (RELAY and Compatibility
recordings merged, newest first): rows, times, paging, totals, htmx.

Bad page links, page sizes and IDs are in test_bad_input.py; filters in test_filters.py."""

import re
from urllib.parse import parse_qs, urlsplit

from demo_space import DEMO_PROJECT_ID, OTHER_PROJECT_ID
from recordings_app.templatetags.recordings import money
from tests.conftest import listed, page_link


def row_ids(html: str) -> list[str]:
    return re.findall(r'href="/recordings/([0-9a-f-]{36})/"', html)


def test_the_list_shows_the_newest_recordings_first(alice_client, demo_space):
    html = alice_client.get("/recordings/").content.decode()
    newest = [r["id"] for r in listed(demo_space, DEMO_PROJECT_ID)[:50]]
    assert row_ids(html) == newest
    assert {r["family"] for r in listed(demo_space, DEMO_PROJECT_ID)[:50]} == {"relay", "compat"}


def test_each_row_shows_the_recordings_facts(alice_client, demo_space):
    raw = demo_space.add_recording(
        DEMO_PROJECT_ID,
        created_at="2099-01-01T10:00:00Z",
        duration_in_seconds=3725,
        price=0.0025,
        price_unit="USD",
        status="failed",
        error_code="30005",
        track="inbound",
        stereo=True,
        byte_size=2048,
    )
    html = alice_client.get("/recordings/").content.decode()
    row = html[html.index(raw["id"]) : html.index("</tr>", html.index(raw["id"]))]
    for text in (
        "Jan 1, 2099 10:00",
        "1:02:05",
        "$0.0025",
        "inbound",
        "failed",
        "30005",
        "Stereo",
        "2.0\xa0KB",
    ):
        assert text in row


def test_times_show_in_the_browsers_time_zone(berlin_client, demo_space):
    demo_space.add_recording(DEMO_PROJECT_ID, created_at="2099-01-01T10:00:00Z")
    assert "Jan 1, 2099 11:00" in berlin_client.get("/recordings/").content.decode()


def test_paging_forward_and_back_with_signed_links(alice_client, demo_space):
    everything = [r["id"] for r in listed(demo_space, DEMO_PROJECT_ID)]
    first = alice_client.get("/recordings/?size=25").content.decode()
    second = alice_client.get("/recordings/" + page_link(first, "next")).content.decode()
    assert row_ids(second) == everything[25:50]
    back = alice_client.get("/recordings/" + page_link(second, "prev")).content.decode()
    assert row_ids(back) == everything[:25]
    assert page_link(first, "prev") is None


def test_page_links_carry_no_upstream_url(alice_client, demo_space):
    html = alice_client.get("/recordings/").content.decode()
    token = parse_qs(urlsplit(page_link(html, "next")).query)["page"][0]
    assert "http" not in token and "recordings" not in token and demo_space.base_url not in html


def test_the_page_size_choice(alice_client):
    html = alice_client.get("/recordings/?size=100").content.decode()
    assert len(row_ids(html)) == 100
    assert '<option value="100" selected>' in html


def test_page_totals_add_up_per_currency(alice_client, demo_space):
    rows = listed(demo_space, DEMO_PROJECT_ID)[:25]
    html = alice_client.get("/recordings/?size=25").content.decode()
    totals = html[html.index('class="totals"') :]
    seconds = sum(r["seconds"] for r in rows)
    assert f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" in totals
    assert "<strong>25</strong> recordings" in totals
    priced = [r for r in rows if r["cost"] is not None]  # a null price is not rated yet
    for unit in {r["unit"] for r in priced}:
        cost = sum(r["cost"] for r in priced if r["unit"] == unit)
        assert f"<strong>{money(cost, unit)}</strong>" in totals


def test_htmx_gets_only_the_table(alice_client):
    response = alice_client.get("/recordings/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="recordings-table"')
    assert "<html" not in html and "Log out" not in html
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_gets_the_whole_page(alice_client):
    response = alice_client.get(
        "/recordings/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_without_htmx_the_whole_page_comes(alice_client):
    html = alice_client.get("/recordings/").content.decode()
    assert "<html" in html and 'id="recordings-table"' in html


def test_two_users_see_only_their_own_recordings(alice_client, bob_client, bob, demo_space):
    alices = set(row_ids(alice_client.get("/recordings/").content.decode()))
    bobs = set(row_ids(bob_client.get("/recordings/").content.decode()))
    assert bobs == {r["id"] for r in listed(demo_space, OTHER_PROJECT_ID)[:50]}
    assert alices.isdisjoint(bobs)


def test_jumping_to_a_recording_by_id(alice_client, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[100]["id"]
    response = alice_client.get(f"/recordings/go/?id=+{recording_id.upper()}+")
    assert response["Location"] == f"/recordings/{recording_id}/"


def test_an_empty_project_says_what_to_do(alice_client, demo_space):
    for raw in demo_space.recordings(DEMO_PROJECT_ID):
        demo_space.delete_recording(DEMO_PROJECT_ID, raw["id"])
    for raw in demo_space.compat_recordings(DEMO_PROJECT_ID):
        demo_space.delete_compat_recording(DEMO_PROJECT_ID, raw["sid"])
    assert "No recordings here" in alice_client.get("/recordings/").content.decode()


def test_the_column_headers_sort_through_the_index(alice_client, alice):
    from recordings_app import index
    from recordings_app.models import Credential

    index.run_sync(Credential.objects.get(user=alice))
    table = alice_client.get("/recordings/").context["table"]
    assert table.sorting["price"]["url"] == "?sort=-price"
    assert table.index_total == index.indexed_recordings(Credential.objects.get(user=alice)).count()
    html = alice_client.get("/recordings/").content.decode()
    assert f"{table.index_total} in all, as far as the dashboard knows" in html
    by_price = alice_client.get("/recordings/" + table.sorting["price"]["url"]).context["table"]
    prices = [r.price for r in by_price.recordings if r.price is not None]
    assert by_price.filtered and prices == sorted(prices, reverse=True)


def test_when_signalwire_does_not_answer_the_list_shows_the_index_copy(
    alice_client, alice, demo_space, settings
):
    from recordings_app import index
    from recordings_app.models import Credential

    index.run_sync(Credential.objects.get(user=alice))
    everything = listed(demo_space, DEMO_PROJECT_ID)
    created = {r["id"]: r["created"] for r in everything}
    settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.SIGNALWIRE_CACHE_SECONDS = 0
    response = alice_client.get("/recordings/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "SignalWire is not answering; this is what the dashboard last saw" in html
    shown = [created[i] for i in row_ids(html)]
    # The 50 newest, newest first (recordings of the same second may swap places).
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    assert shown[-1] >= everything[49]["created"]


def test_without_an_index_a_silent_signalwire_is_an_error_page(alice_client, settings):
    settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"
    response = alice_client.get("/recordings/")
    assert response.status_code == 503
    assert "SignalWire is unreachable" in response.content.decode()


def test_a_space_that_lists_oldest_first_is_shown_newest_first_from_the_index(alice_client, alice):
    from recordings_app import index
    from recordings_app.models import Credential, IndexSync

    credential = Credential.objects.get(user=alice)
    index.run_sync(credential)
    # What the sync remembers of a space whose RELAY pages came oldest first.
    IndexSync.objects.filter(credential=credential).update(relay_newest_first=False)
    response = alice_client.get("/recordings/")
    html = response.content.decode()
    assert "SignalWire lists this space's recordings oldest first" in html
    shown = [r.created_at for r in response.context["table"].recordings]
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    newest = index.indexed_recordings(credential).order_by("-created_at").first()
    assert shown[0] == newest.created_at
