from demo_space import DEMO_PROJECT_ID
from recordings_app.models import Profile


def test_times_follow_the_browsers_zone_until_the_profile_picks_one(alice_client, demo_space):
    raw = demo_space.add_recording(DEMO_PROJECT_ID, created_at="2099-01-01T10:00:00Z")
    alice_client.cookies["tz"] = "America/New_York"
    assert "Jan 1, 2099 05:00" in alice_client.get(f"/recordings/{raw['id']}/").content.decode()

    response = alice_client.post("/profile/", {"timezone": "Asia/Tokyo"}, follow=True)
    assert "Times are now shown in Asia/Tokyo." in response.content.decode()
    html = alice_client.get(f"/recordings/{raw['id']}/").content.decode()
    assert "Jan 1, 2099 19:00" in html and 'title="2099-01-01 10:00:00 UTC"' in html


def test_clearing_the_profile_zone_goes_back_to_the_browsers(alice_client, alice):
    Profile.objects.create(user=alice, timezone="Asia/Tokyo")
    response = alice_client.post("/profile/", {"timezone": ""}, follow=True)
    assert "Times are now shown in your browser" in response.content.decode()
    assert Profile.objects.get(user=alice).timezone == ""


def test_a_zone_that_does_not_exist_is_refused(alice_client, alice):
    response = alice_client.post("/profile/", {"timezone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Profile.objects.filter(user=alice).exists()


def test_the_profile_page_says_which_zone_is_in_use(alice_client, alice):
    Profile.objects.create(user=alice, timezone="Europe/Paris")
    html = alice_client.get("/profile/").content.decode()
    assert "Now showing times in <strong>Europe/Paris</strong>" in html
