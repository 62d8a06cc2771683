"""Media from SignalWire's own hosts gets the credentials; media anywhere else does not."""

import pytest

from recordings_app import signalwire as sw
from tests import test_signalwire_fakes as fakes
from tests.test_signalwire_fakes import API_TOKEN, PROJECT_ID, WAV, Answer

pytestmark = pytest.mark.no_upstream
space, files, foreign, client = fakes.space, fakes.files, fakes.foreign, fakes.client

FILES_PATH = f"/space/{PROJECT_ID}/recordings/r1.wav"


def recording_at(url: str) -> sw.Recording:
    return sw.Recording(id=fakes.uuid_for("relay", 1), url=url, status="completed")


def read(stream: sw.MediaStream) -> bytes:
    return b"".join(stream)


@pytest.mark.parametrize("protected", [True, False])
def test_media_on_files_signalwire_com_gets_the_credentials(client, space, files, protected):
    files.route("GET", FILES_PATH, Answer(200, WAV))
    if protected:
        files.protected.add(FILES_PATH)
    stream = client.open_media(recording_at(f"https://files.signalwire.com{FILES_PATH}?x=1"))
    assert stream.status == 200 and read(stream) == WAV
    [seen] = files.seen
    assert (seen.user, seen.password, seen.query) == (PROJECT_ID, API_TOKEN, {"x": ["1"]})
    assert space.seen == []


def test_without_a_files_url_files_signalwire_com_goes_to_the_base_url(client, space):
    space.route("GET", FILES_PATH, Answer(200, WAV))
    space.protected.add(FILES_PATH)
    assert read(client.open_media(recording_at(f"https://files.signalwire.com{FILES_PATH}"))) == WAV


@pytest.mark.parametrize(
    "host", ["demo.signalwire.com", "another.signalwire.com", "demo.signalwire.com."]
)
def test_media_on_a_space_host_goes_to_the_base_url_with_credentials(client, space, files, host):
    space.route("GET", "/media/r1.wav", Answer(200, WAV))
    space.protected.add("/media/r1.wav")
    assert read(client.open_media(recording_at(f"https://{host}/media/r1.wav"))) == WAV
    assert files.seen == []


def test_media_on_a_foreign_host_is_fetched_without_credentials(client, foreign):
    foreign.route("GET", "/a.wav", Answer(200, WAV))
    assert read(client.open_media(recording_at(f"{foreign.url}/a.wav"))) == WAV
    assert [seen.user for seen in foreign.seen] == [None]


def test_protected_media_on_a_foreign_host_is_refused_and_never_gets_credentials(client, foreign):
    foreign.route("GET", "/a.wav", Answer(200, WAV))
    foreign.protected.add("/a.wav")
    with pytest.raises(sw.MediaRefused) as refused:
        client.open_media(recording_at(f"{foreign.url}/a.wav"))
    assert refused.value.status == 401 and refused.value.host == "127.0.0.1"
    assert [seen.user for seen in foreign.seen] == [None]


def test_a_redirect_from_signalwire_to_a_foreign_host_drops_the_credentials(client, files, foreign):
    files.route("GET", FILES_PATH, Answer(302, headers={"Location": f"{foreign.url}/stored.wav"}))
    foreign.route("GET", "/stored.wav", Answer(200, WAV))
    stream = client.open_media(recording_at(f"https://files.signalwire.com{FILES_PATH}"))
    assert read(stream) == WAV
    assert [seen.user for seen in files.seen] == [PROJECT_ID]
    assert [seen.user for seen in foreign.seen] == [None]


def test_a_redirect_to_signalwire_gets_the_credentials_back(client, files, foreign):
    foreign.route(
        "GET",
        "/a.wav",
        Answer(301, headers={"Location": f"https://files.signalwire.com{FILES_PATH}"}),
    )
    files.route("GET", FILES_PATH, Answer(200, WAV))
    files.protected.add(FILES_PATH)
    assert read(client.open_media(recording_at(f"{foreign.url}/a.wav"))) == WAV
    assert [seen.user for seen in foreign.seen + files.seen] == [None, PROJECT_ID]


def test_a_relative_redirect_on_signalwire_keeps_the_credentials_and_the_range(client, files):
    files.route("GET", FILES_PATH, Answer(307, headers={"Location": "/moved.wav"}))
    files.route(
        "GET",
        "/moved.wav",
        Answer(206, WAV[:4], {"Content-Range": f"bytes 0-3/{len(WAV)}", "Accept-Ranges": "bytes"}),
    )
    files.protected.update({FILES_PATH, "/moved.wav"})
    stream = client.open_media(
        recording_at(f"https://files.signalwire.com{FILES_PATH}"), range_header="bytes=0-3"
    )
    assert (stream.status, read(stream)) == (206, b"RIFF")
    assert stream.headers["Content-Range"] == f"bytes 0-3/{len(WAV)}"
    assert [(seen.user, seen.range) for seen in files.seen] == [(PROJECT_ID, "bytes=0-3")] * 2


def test_redirects_are_followed_a_few_times_only(client, files):
    for hop in range(sw.MAX_MEDIA_REDIRECTS + 1):
        files.route(
            "GET", f"/hop{hop}.wav", Answer(302, headers={"Location": f"/hop{hop + 1}.wav"})
        )
    files.route("GET", f"/hop{sw.MAX_MEDIA_REDIRECTS}.wav", Answer(200, WAV))
    assert read(client.open_media(recording_at("https://files.signalwire.com/hop0.wav"))) == WAV

    files.route("GET", "/loop.wav", Answer(302, headers={"Location": "/loop.wav"}))
    with pytest.raises(sw.MediaUnavailable) as unavailable:
        client.open_media(recording_at("https://files.signalwire.com/loop.wav"))
    assert not unavailable.value.missing
    assert len(files.requests_to("/loop.wav")) == sw.MAX_MEDIA_REDIRECTS + 1


@pytest.mark.parametrize(
    "url", ["ftp://files.signalwire.com/a.wav", "file:///etc/passwd", "javascript:alert(1)", "//"]
)
def test_a_media_url_that_is_not_http_is_refused_without_a_request(client, space, url):
    with pytest.raises(sw.MediaUnavailable):
        client.open_media(recording_at(url))
    assert space.seen == []


def test_no_media_url_is_missing_audio(client):
    with pytest.raises(sw.MediaUnavailable) as unavailable:
        client.open_media(recording_at(""))
    assert unavailable.value.missing


def test_a_storage_host_that_does_not_resolve_is_unreachable_not_a_wrong_space(client):
    # .invalid never resolves (RFC 2606): a real DNS failure, no mock.
    with pytest.raises(sw.UpstreamUnreachable):
        client.open_media(recording_at("https://media.invalid/a.wav"))


def test_protected_media_missing_upstream_is_not_found(client, files):
    files.protected.add(FILES_PATH)
    with pytest.raises(sw.RecordingNotFound):
        client.open_media(recording_at(f"https://files.signalwire.com/space/{PROJECT_ID}/gone.wav"))


# ------------------------------------------------ the rule, without any request


@pytest.mark.parametrize(
    ("url", "fetched_as", "with_credentials"),
    [
        ("https://files.signalwire.com/a.wav?t=1", "https://files.signalwire.com/a.wav?t=1", True),
        ("https://acme.signalwire.com/api/laml/x", "https://acme.signalwire.com/api/laml/x", True),
        ("https://FILES.SignalWire.com/a.wav", "https://files.signalwire.com/a.wav", True),
        ("https://storage.signalwire.com:8443/a", "https://storage.signalwire.com:8443/a", True),
        # SignalWire serves HTTPS only: plain HTTP is nobody we trust.
        ("http://files.signalwire.com/a.wav", "http://files.signalwire.com/a.wav", False),
        ("https://signalwire.com.evil.example/a", "https://signalwire.com.evil.example/a", False),
        ("https://evilsignalwire.com/a.wav", "https://evilsignalwire.com/a.wav", False),
        ("https://s3.amazonaws.com/b/a.wav", "https://s3.amazonaws.com/b/a.wav", False),
        # User info never reaches the request; the host judged is the host asked.
        ("https://files.signalwire.com@evil.example/a", "https://evil.example/a", False),
        ("https://u:p@files.signalwire.com/a#frag", "https://files.signalwire.com/a", True),
        ("https://evil.example#@files.signalwire.com/", "https://evil.example/", False),
    ],
)
def test_which_media_hosts_get_the_credentials(settings, url, fetched_as, with_credentials):
    settings.SIGNALWIRE_BASE_URL = ""
    settings.SIGNALWIRE_FILES_URL = ""
    assert sw.media_target(url) == (fetched_as, with_credentials)


def test_with_a_base_url_signalwire_hosts_are_rewritten_path_and_query_kept(settings):
    settings.SIGNALWIRE_BASE_URL = "http://127.0.0.1:8001"
    settings.SIGNALWIRE_FILES_URL = "http://127.0.0.1:8002/files"
    assert sw.media_target("https://acme.signalwire.com/api/laml/r?x=1") == (
        "http://127.0.0.1:8001/api/laml/r?x=1",
        True,
    )
    assert sw.media_target("https://files.signalwire.com/a/b.wav") == (
        "http://127.0.0.1:8002/files/a/b.wav",
        True,
    )
    # Rewritten, plain HTTP is the stand-in's business (the demo space has no TLS).
    assert sw.media_target("http://files.signalwire.com/a.wav") == (
        "http://127.0.0.1:8002/files/a.wav",
        True,
    )
    # The stand-ins themselves count as SignalWire's hosts; another port does not.
    assert sw.media_target("http://127.0.0.1:8002/files/c.wav")[1] is True
    assert sw.media_target("http://127.0.0.1:8003/c.wav")[1] is False
    settings.SIGNALWIRE_BASE_URL = "https://staging.example.test"
    assert sw.media_target("https://staging.example.test:443/c.wav")[1] is True


@pytest.mark.parametrize("url", ["ftp://files.signalwire.com/a", "https://files.signalwire.com:x/"])
def test_urls_that_cannot_be_fetched_have_no_target(url):
    assert sw.media_target(url) is None


def test_in_production_a_foreign_media_host_on_a_private_address_is_never_connected(
    client, settings, foreign, monkeypatch
):
    monkeypatch.setattr(sw._local, "session", None, raising=False)  # no pooled connection
    settings.DEBUG = False
    settings.SIGNALWIRE_BASE_URL = "https://api.example.test"
    foreign.route("GET", "/a.wav", Answer(200, WAV))
    port = foreign.url.rsplit(":", 1)[1]
    with pytest.raises(sw.ForbiddenAddress):
        client.open_media(recording_at(f"http://localhost:{port}/a.wav"))
    assert foreign.seen == []


def test_in_production_the_files_url_host_is_exempt_from_the_address_guard(
    client, settings, files, monkeypatch
):
    monkeypatch.setattr(sw._local, "session", None, raising=False)
    settings.DEBUG = False
    settings.SIGNALWIRE_BASE_URL = "https://api.example.test"
    files.route("GET", FILES_PATH, Answer(200, WAV))
    assert read(client.open_media(recording_at(f"https://files.signalwire.com{FILES_PATH}"))) == WAV
