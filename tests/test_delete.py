from demo_space import DEMO_PROJECT_ID


def test_deleting_asks_first_then_deletes_upstream(alice_client, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    confirm = alice_client.get(f"/recordings/{recording_id}/delete/").content.decode()
    assert "Delete this recording?" in confirm and 'method="post"' in confirm
    assert recording_id in [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)]

    response = alice_client.post(f"/recordings/{recording_id}/delete/", follow=True)
    assert f"Recording {recording_id} was deleted." in response.content.decode()
    assert recording_id not in [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)]
    assert recording_id not in response.content.decode().split("was deleted.")[1]


def test_deleting_what_is_already_gone_says_so(alice_client, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    alice_client.post(f"/recordings/{recording_id}/delete/")
    response = alice_client.post(f"/recordings/{recording_id}/delete/", follow=True)
    assert f"Recording {recording_id} was already deleted." in response.content.decode()


def test_without_permission_nobody_deletes(bob_client, bob, demo_space):
    from demo_space import OTHER_PROJECT_ID

    recording_id = demo_space.recordings(OTHER_PROJECT_ID)[0]["id"]
    assert bob_client.post(f"/recordings/{recording_id}/delete/").status_code == 403
    assert bob_client.get(f"/recordings/{recording_id}/delete/").status_code == 403
    assert recording_id in [r["id"] for r in demo_space.recordings(OTHER_PROJECT_ID)]
    assert "Delete…" not in bob_client.get(f"/recordings/{recording_id}/").content.decode()


def test_a_failed_delete_keeps_the_recording_and_says_so(alice_client, demo_space):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    demo_space.add_fault(status=500, body={"error": "Internal Server Error"}, method="DELETE")
    response = alice_client.post(f"/recordings/{recording_id}/delete/")
    assert response.status_code == 502
    assert "It was not deleted" in response.content.decode()
    assert recording_id in [r["id"] for r in demo_space.recordings(DEMO_PROJECT_ID)]


def test_a_deleted_recording_leaves_nothing_cached_behind(alice_client, demo_space):
    recording = demo_space.add_recording(DEMO_PROJECT_ID, duration_in_seconds=20, stereo=True)
    peaks_url = f"/recordings/{recording['id']}/peaks/"
    assert alice_client.get(peaks_url).json()["peaks"]  # computed and cached
    assert alice_client.get(f"/recordings/{recording['id']}/").status_code == 200  # cached
    alice_client.post(f"/recordings/{recording['id']}/delete/")

    assert alice_client.get(peaks_url).status_code == 404
    assert alice_client.get(f"/recordings/{recording['id']}/").status_code == 404
    assert recording["id"] not in alice_client.get("/recordings/").content.decode()
