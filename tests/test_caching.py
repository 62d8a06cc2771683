"""Upstream answers are reused per credential for SIGNALWIRE_CACHE_SECONDS."""

from django.core.cache import cache

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID
from tests.conftest import upstream_gets


def test_a_repeated_list_page_makes_no_upstream_call(alice_client, demo_space):
    alice_client.get("/recordings/")
    before = upstream_gets(demo_space)
    assert alice_client.get("/recordings/").status_code == 200
    assert upstream_gets(demo_space) == before


def test_caching_can_be_turned_off(alice_client, demo_space, settings):
    settings.SIGNALWIRE_CACHE_SECONDS = 0
    alice_client.get("/recordings/")
    alice_client.get("/recordings/")
    # Each page asks both API families again, and who called whom: one read of voice
    # logs and one of calls for the page's window.
    assert upstream_gets(demo_space) == 8


LEG_KEYS = ("relay_pstn_leg_id", "relay_sip_leg_id", "relay_webrtc_leg_id")


def test_playing_reuses_the_recording_details(alice_client, demo_space, playable):
    alice_client.get(f"/recordings/{playable['id']}/")
    for start in (0, 1000, 2000):
        alice_client.get(
            f"/recordings/{playable['id']}/audio/", headers={"Range": f"bytes={start}-"}
        )
    api_gets = [path for method, path, _ in demo_space.request_log if "/api/" in path]
    # The recording once, and its leg's numbers once (the page's, when it has a leg);
    # playing asks neither.
    leg = next(
        (playable[key] for key in LEG_KEYS if playable.get(key)),
        None,
    )
    assert api_gets == [f"/api/relay/rest/recordings/{playable['id']}"] + (
        [f"/api/voice/logs/{leg}"] if leg else []
    )


def test_a_delete_is_seen_at_once(alice_client, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    row_link = f'href="/recordings/{recording_id}/"'
    assert row_link in alice_client.get("/recordings/").content.decode()
    alice_client.get(f"/recordings/{recording_id}/")
    alice_client.post(f"/recordings/{recording_id}/delete/")
    assert row_link not in alice_client.get("/recordings/").content.decode()
    assert alice_client.get(f"/recordings/{recording_id}/").status_code == 404


def test_an_upstream_error_is_not_cached(alice_client, demo_space):
    demo_space.add_fault(status=500, body={"error": "Internal Server Error"})
    assert alice_client.get("/recordings/").status_code == 502
    demo_space.clear_faults()
    assert alice_client.get("/recordings/").status_code == 200


def test_one_users_cached_answers_never_reach_another(alice_client, bob_client, demo_space):
    alices = alice_client.get("/recordings/").content.decode()
    bobs = bob_client.get("/recordings/").content.decode()
    assert alices != bobs
    first_alice_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    assert first_alice_id not in bobs
    assert bob_client.get(f"/recordings/{first_alice_id}/").status_code == 404


def test_cache_keys_hold_no_token(alice_client):
    alice_client.get("/recordings/")
    if hasattr(cache._cache, "get_client"):  # Redis: ask the server for every key
        keys = [key.decode() for key in cache._cache.get_client().scan_iter("*")]
    else:  # LocMemCache's own store: the keys as written
        keys = list(cache._cache.keys())
    assert keys and not any(DEMO_API_TOKEN in key for key in keys)


def test_a_broken_cache_does_not_break_the_page(alice_client, alice, settings, broken_cache):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    alice_client.force_login(alice)  # sessions may have lived in that cache
    assert alice_client.get("/recordings/").status_code == 200
