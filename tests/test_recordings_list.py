import re
from urllib.parse import parse_qs, urlsplit

import pytest

from demo_space import DEMO_PROJECT_ID, OTHER_PROJECT_ID


def row_ids(html: str) -> list[str]:
    return re.findall(r'href="/recordings/([0-9a-f-]{36})/"', html)


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'href="(\?[^"]+)"[^>]*rel="{rel}"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_the_list_shows_the_newest_recordings_first(alice_client, demo_space):
    html = alice_client.get("/recordings/").content.decode()
    newest = [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)[:50]]
    assert row_ids(html) == newest


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


def test_times_show_in_the_browsers_time_zone(alice_client, demo_space):
    demo_space.add_recording(DEMO_PROJECT_ID, created_at="2099-01-01T10:00:00Z")
    alice_client.cookies["tz"] = "Europe/Berlin"
    assert "Jan 1, 2099 11:00" in alice_client.get("/recordings/").content.decode()


def test_paging_forward_and_back_with_signed_links(alice_client, demo_space):
    everything = [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)]
    first = alice_client.get("/recordings/?size=25").content.decode()
    second = alice_client.get("/recordings/" + link(first, "next")).content.decode()
    assert row_ids(second) == everything[25:50]
    back = alice_client.get("/recordings/" + link(second, "prev")).content.decode()
    assert row_ids(back) == everything[:25]
    assert link(first, "prev") is None


def test_page_links_carry_no_upstream_url(alice_client, demo_space):
    html = alice_client.get("/recordings/").content.decode()
    token = parse_qs(urlsplit(link(html, "next")).query)["page"][0]
    assert "http" not in token and "recordings" not in token and demo_space.base_url not in html


def test_a_tampered_page_link_is_a_400_with_a_message(alice_client):
    html = alice_client.get("/recordings/").content.decode()
    tampered = link(html, "next")[:-3] + "abc"
    response = alice_client.get("/recordings/" + tampered)
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


def test_a_page_link_from_other_credentials_does_not_work(alice_client, bob_client, bob):
    html = alice_client.get("/recordings/").content.decode()
    assert bob_client.get("/recordings/" + link(html, "next")).status_code == 400


@pytest.mark.parametrize("size", ["0", "7", "1001", "abc", "-5"])
def test_unknown_page_sizes_are_refused_with_a_message(alice_client, size):
    response = alice_client.get(f"/recordings/?size={size}")
    assert response.status_code == 400
    assert "Choose 25, 50, 100, 250" in response.content.decode()


def test_the_page_size_choice(alice_client):
    html = alice_client.get("/recordings/?size=100").content.decode()
    assert len(row_ids(html)) == 100
    assert '<option value="100" selected>' in html


def test_page_totals_add_up_per_currency(alice_client, demo_space):
    rows = demo_space.recordings(DEMO_PROJECT_ID)[:25]
    html = alice_client.get("/recordings/?size=25").content.decode()
    totals = html[html.index('class="totals"') :]
    seconds = sum(r["duration_in_seconds"] for r in rows)
    assert f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" in totals
    assert "<strong>25</strong> recordings" in totals
    for unit in {r["price_unit"] for r in rows}:
        assert ("$" if unit == "USD" else "€") in totals


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
    assert bobs == {r["id"] for r in demo_space.recordings(OTHER_PROJECT_ID)[:50]}
    assert alices.isdisjoint(bobs)


def test_jumping_to_a_recording_by_id(alice_client, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[100]["id"]
    response = alice_client.get(f"/recordings/go/?id=+{recording_id.upper()}+")
    assert response["Location"] == f"/recordings/{recording_id}/"


def test_jumping_to_garbage_says_so(alice_client):
    response = alice_client.get("/recordings/go/?id=<script>", follow=True)
    assert "That is not a recording ID" in response.content.decode()


def test_an_empty_project_says_what_to_do(alice_client, demo_space):
    for raw in demo_space.recordings(DEMO_PROJECT_ID):
        demo_space.delete_recording(DEMO_PROJECT_ID, raw["id"])
    assert "No recordings here" in alice_client.get("/recordings/").content.decode()
