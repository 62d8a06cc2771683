"""Each kind of upstream failure reaches the user as a specific message and status.

Faults come from the demo space itself over HTTP, except where noted."""

import pytest

from demo_space import DEMO_PROJECT_ID
from recordings_app.models import Credential

LIST = "/recordings/"


@pytest.mark.parametrize(
    ("status", "body", "headers", "shown", "message"),
    [
        (401, {"error": "Unauthorized"}, {}, 502, "SignalWire answered 401"),
        (403, {"error": "Forbidden"}, {}, 502, "Voice scope"),
        (404, {"error": "Not Found"}, {}, 502, "No SignalWire space answers at"),
        (
            422,
            {
                "errors": [
                    {
                        "detail": "page_size <b>bad</b>",
                        "status": "422",
                        "title": "Invalid",
                        "code": "x",
                    }
                ]
            },
            {},
            502,
            "SignalWire said: page_size &lt;b&gt;bad&lt;/b&gt;",
        ),
        (
            429,
            {"error": "Too Many Requests"},
            {"Retry-After": "30"},
            503,
            "Try again in 30 seconds",
        ),
        (500, {"error": "Internal Server Error"}, {}, 502, "answered with an error (500)"),
        (502, "<html>bad gateway</html>", {}, 502, "answered with an error (502)"),
        (503, "", {}, 502, "answered with an error (503)"),
        (200, "this is not json", {}, 502, "not in the documented format"),
        (200, {"links": {}, "data": "nope"}, {}, 502, "not in the documented format"),
    ],
)
def test_list_failures_show_their_message(
    alice_client, demo_space, status, body, headers, shown, message
):
    demo_space.add_fault(status=status, body=body, headers=headers, path_prefix="/api/")
    response = alice_client.get(LIST)
    assert response.status_code == shown
    assert message in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_rate_limiting_passes_retry_after_on(alice_client, demo_space):
    demo_space.add_fault(status=429, body={}, headers={"Retry-After": "30"})
    assert alice_client.get(LIST)["Retry-After"] == "30"


def test_a_passing_500_is_retried_and_the_page_works(alice_client, demo_space):
    demo_space.add_fault(status=500, body={"error": "Internal Server Error"}, times=1)
    response = alice_client.get(LIST)
    assert response.status_code == 200
    gets = [entry for entry in demo_space.request_log if entry[0] == "GET"]
    assert len(gets) == 2


def test_a_slow_upstream_is_a_504(alice_client, demo_space):
    demo_space.add_fault(delay=2.0)
    response = alice_client.get(LIST)
    assert response.status_code == 504
    assert "did not answer within 1 second." in response.content.decode()


def test_an_unreachable_upstream_is_a_503(alice_client, settings):
    settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:9"
    response = alice_client.get(LIST)
    assert response.status_code == 503
    assert "could not connect to SignalWire" in response.content.decode()


def test_an_upstream_failure_does_not_blame_the_credentials(alice_client, demo_space):
    demo_space.add_fault(status=500, body={"error": "Internal Server Error"})
    html = alice_client.get(LIST).content.decode()
    assert "SignalWire had a problem" in html and "Check your credentials" not in html


def test_revoked_credentials_point_to_the_credentials_page(alice_client, alice):
    credential = Credential.objects.get(user=alice)
    credential.set_token("PTrevoked-token-9999")
    credential.save()
    html = alice_client.get(LIST).content.decode()
    assert "SignalWire answered 401" in html and 'href="/credentials/"' in html


def test_htmx_requests_get_the_message_alone(alice_client, demo_space):
    demo_space.add_fault(status=500, body={})
    response = alice_client.get(LIST, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 502
    assert html.lstrip().startswith('<section class="problem"') and "<html" not in html


@pytest.mark.parametrize("suffix", ["", "audio/", "delete/"])
@pytest.mark.parametrize(
    ("status", "shown", "message"),
    [
        (404, 404, "Recording not found"),
        (500, 502, "answered with an error (500)"),
        (401, 502, "SignalWire answered 401"),
    ],
)
def test_recording_pages_show_upstream_failures(
    alice_client, demo_space, suffix, status, shown, message
):
    recording_id = demo_space.recordings(DEMO_PROJECT_ID)[0]["id"]
    demo_space.add_fault(status=status, body={"error": "x"}, path_prefix="/api/")
    response = alice_client.get(f"/recordings/{recording_id}/{suffix}")
    assert response.status_code == shown
    assert message in response.content.decode()


def test_media_failures_show_their_message(alice_client, demo_space):
    recording = next(
        r for r in demo_space.recordings(DEMO_PROJECT_ID) if r["status"] == "completed"
    )
    demo_space.add_fault(status=503, body="", path_prefix="/media/")
    response = alice_client.get(f"/recordings/{recording['id']}/audio/")
    assert response.status_code == 502
    assert "answered with an error (503)" in response.content.decode()
