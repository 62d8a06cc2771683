"""Voice logs and calls, the demo space against SignalWire's own OpenAPI descriptions
(shared/signalwire/voice-logs-openapi.yaml, compat-recordings-openapi.yaml), and the
client's parser against the spec's own examples: the demo space may never be kinder than
SignalWire, and the client must read what SignalWire documents."""

from datetime import UTC, datetime

import pytest
import requests

from demo_space import DEMO_API_TOKEN, DEMO_PROJECT_ID, DemoSpace
from recordings_app.signalwire import Parties
from tests.test_demo_space_contract import (
    COMPAT_URI,
    SPECS,
    _load,
    _pointer,
    assert_valid,
    component_validator,
)

TIMEOUT = 10
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
DEMO = (DEMO_PROJECT_ID, DEMO_API_TOKEN)
LOGS = "/api/voice/logs"
ACCOUNT = f"/api/laml/2010-04-01/Accounts/{DEMO_PROJECT_ID}"
VOICE_URI = "urn:signalwire:voice-logs"
VOICE_SPEC = _load("voice-logs-openapi.yaml")


def voice_validator(path: str, status: int):
    """A validator of the body the voice logs spec documents for GET `path` and `status`."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource(
        VOICE_URI, Resource.from_contents(VOICE_SPEC, default_specification=DRAFT202012)
    )
    responses = VOICE_SPEC["paths"][path]["get"]["responses"]
    assert str(status) in responses, f"the spec has no {status} for GET {path}"
    pointer = _pointer("paths", path, "get", "responses", str(status), "content")
    return Draft202012Validator(
        {"$ref": f"{VOICE_URI}#/{pointer}/application~1json/schema"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@pytest.fixture(scope="module")
def space():
    assert (SPECS / "voice-logs-openapi.yaml").is_file()
    with DemoSpace(now=NOW) as running:
        yield running


@pytest.fixture(autouse=True)
def pristine(space):
    space.reset()


def get(space, path, auth=DEMO):
    return requests.get(space.base_url + path, auth=auth, timeout=TIMEOUT)


def test_every_voice_log_list_page_matches_the_spec(space):
    validator = voice_validator("/api/voice/logs", 200)
    path, pages = f"{LOGS}?page_size=1000", 0
    while path:
        answer = get(space, path)
        assert answer.status_code == 200
        assert_valid(validator, answer.json())
        path, pages = answer.json()["links"].get("next"), pages + 1
    assert pages == -(-len(space.voice_logs(DEMO_PROJECT_ID)) // 1000)


def test_one_voice_log_of_each_kind_matches_the_spec(space):
    validator = voice_validator("/api/voice/logs/{id}", 200)
    kinds = {}
    for log in space.voice_logs(DEMO_PROJECT_ID):
        kinds.setdefault(log["type"], log)
    assert set(kinds) == {"relay_pstn_call", "relay_sip_call", "relay_webrtc_call"}
    for log in kinds.values():
        assert_valid(validator, get(space, f"{LOGS}/{log['id']}").json())


def test_voice_log_errors_match_the_spec(space):
    missing = "0badc0de-0000-4000-8000-000000000000"
    for path, status, answer in (
        ("/api/voice/logs/{id}", 404, get(space, f"{LOGS}/{missing}")),
        ("/api/voice/logs/{id}", 401, get(space, f"{LOGS}/{missing}", auth=None)),
        ("/api/voice/logs", 401, get(space, LOGS, auth=(DEMO_PROJECT_ID, "wrong"))),
        ("/api/voice/logs", 422, get(space, f"{LOGS}?page_size=1001")),
        ("/api/voice/logs", 422, get(space, f"{LOGS}?created_after=soon")),
    ):
        assert answer.status_code == status
        assert_valid(voice_validator(path, status), answer.json())


def test_every_call_in_the_calls_list_matches_the_spec(space):
    validator = component_validator(COMPAT_URI, "CallResponse")
    answer = get(space, f"{ACCOUNT}/Calls.json?PageSize=1000")
    assert answer.status_code == 200 and answer.json()["calls"]
    for call in answer.json()["calls"]:
        assert_valid(validator, call)


def test_the_demo_numbers_span_countries_a_sip_uri_and_an_anonymous_caller(space):
    ends = [end for log in space.voice_logs(DEMO_PROJECT_ID) for end in (log["from"], log["to"])]
    ends += [end for call in space.calls(DEMO_PROJECT_ID) for end in (call["from"], call["to"])]
    countries = {
        prefix
        for prefix in ("+1", "+44", "+49", "+33", "+61")
        if any(e.startswith(prefix) for e in ends)
    }
    assert countries == {"+1", "+44", "+49", "+33", "+61"}
    assert any(e.startswith("sip:") for e in ends) and "anonymous" in ends
    assert any(not e.startswith(("+", "sip:")) and e != "anonymous" for e in ends)  # a client


def test_every_leg_of_a_relay_recording_has_its_voice_log(space):
    for rec in space.recordings(DEMO_PROJECT_ID):
        for key in ("relay_pstn_leg_id", "relay_sip_leg_id", "relay_webrtc_leg_id"):
            if rec.get(key):
                log = space.voice_log(DEMO_PROJECT_ID, rec[key])
                assert log is not None and log["created_at"] <= rec["created_at"]


def test_the_spec_examples_parse_with_the_client():
    schemas = VOICE_SPEC["components"]["schemas"]
    example = {
        name: spec["examples"][0]
        for name, spec in schemas["Voice.RelayVoiceLog"]["properties"].items()
        if spec.get("examples")
    }
    parties = Parties.from_voice_log(example)
    assert parties.known and parties.id == "b7182dc2-00f3-40e4-a5ce-20f164b329df"
    assert (parties.from_address, parties.to_address) == ("+12065551212", "+12065553434")
    assert parties.direction == "inbound"
    call_spec = _load("compat-recordings-openapi.yaml")["components"]["schemas"]["CallResponse"]
    call = {
        name: spec["examples"][0]
        for name, spec in call_spec["properties"].items()
        if spec.get("examples")
    }
    call["direction"] = "outbound"
    parties = Parties.from_call(call)
    assert (parties.from_address, parties.to_address) == ("+13103384645", "+13105678901")
    assert parties.id == "b3877c40-da60-4998-90ad-b792e98472ca" and parties.started_at
