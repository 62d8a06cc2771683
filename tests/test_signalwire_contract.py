"""Every recording SignalWire's own OpenAPI files give as an example parses cleanly.

The files live beside the project (shared/signalwire/); the tests skip when that
folder is not there. A recording example is assembled from the recording schema's
property `examples` (one object per example index); a required property without any
example gets a value made from its schema (an enum's first word, a date-time, a
UUID), because the RELAY schemas give no example for `created_at`, `updated_at` or
the leg ids, nor the Compatibility schema for `source` and `status`. Whole-response
`example`/`examples` objects are checked too, where a file has any.
"""

from pathlib import Path

import pytest
import yaml

from recordings_app import signalwire as sw
from recordings_app.signalwire import compat

pytestmark = pytest.mark.no_upstream

FOLDER = Path(__file__).resolve().parents[2] / "shared" / "signalwire"
FILES = {"relay": "recordings-openapi.yaml", "compat": "compat-recordings-openapi.yaml"}
RECORDING_PATHS = {
    "relay": ("/api/relay/rest/recordings", "/api/relay/rest/recordings/{id}"),
    "compat": ("/Accounts/{AccountSid}/Recordings", "/Accounts/{AccountSid}/Recordings/{Sid}"),
}
# The list answers' key for their recordings.
ITEMS = {"relay": "data", "compat": "recordings"}
MADE_UP = {"date-time": "2024-01-15T09:30:00Z", "uuid": "d369a402-7b43-4512-8735-9d5e1f387814"}


def load(family: str) -> dict:
    return yaml.safe_load((FOLDER / FILES[family]).read_text())


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def value_for(spec: dict, schema: dict):
    """A value of this schema's type, for a required property without an example."""
    schema = resolve(spec, schema)
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in schema:
            options = [resolve(spec, option) for option in schema[combinator]]
            chosen = next((o for o in options if o.get("type") != "null"), options[0])
            merged = {**chosen, **{k: v for k, v in schema.items() if k != combinator}}
            return value_for(spec, merged)
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") in MADE_UP:
        return MADE_UP[schema["format"]]
    return {
        "string": "text",
        "integer": 1,
        "number": 0.5,
        "boolean": False,
        "object": None,
        "null": None,
    }.get(schema.get("type", ""), "text")


def assembled(spec: dict, schema: dict) -> list[dict]:
    """Objects made of the properties' examples: the n-th object takes each property's
    n-th example (or its first, when it has fewer)."""
    properties = schema.get("properties", {})
    examples = {
        name: resolve(spec, prop).get("examples") or prop.get("examples")
        for name, prop in properties.items()
    }
    count = max((len(found) for found in examples.values() if found), default=1)
    objects = []
    for index in range(count):
        obj = {}
        for name, prop in properties.items():
            if examples[name]:
                obj[name] = examples[name][min(index, len(examples[name]) - 1)]
            elif name in schema.get("required", ()):
                obj[name] = value_for(spec, prop)
        objects.append(obj)
    return objects


def recording_schemas(spec: dict, family: str) -> dict[str, dict]:
    """Every object schema a recording endpoint answers with (one recording, or a list
    answer's items), by name."""
    found: dict[str, dict] = {}

    def collect(schema: dict, name: str) -> None:
        ref = schema.get("$ref", "")
        schema = resolve(spec, schema)
        name = ref.rsplit("/", 1)[-1] or name
        for combinator in ("anyOf", "oneOf"):
            for option in schema.get(combinator, ()):
                collect(option, name)
        if schema.get("type") != "object":
            return
        items = schema.get("properties", {}).get(ITEMS[family])
        if items:  # a list answer: its items are the recordings
            collect(resolve(spec, items)["items"], name)
        else:
            found[name] = schema

    for path in RECORDING_PATHS[family]:
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        collect(content["schema"], path)
    return found


def response_examples(spec: dict, family: str) -> list[dict]:
    """Recordings in whole-response `example`/`examples` objects of the recording paths."""
    recordings = []
    for path in RECORDING_PATHS[family]:
        for operation in spec["paths"][path].values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    bodies = [media["example"]] if "example" in media else []
                    bodies += [entry.get("value") for entry in media.get("examples", {}).values()]
                    for body in bodies:
                        if isinstance(body, dict) and isinstance(body.get(ITEMS[family]), list):
                            recordings += body[ITEMS[family]]
                        elif isinstance(body, dict) and ("id" in body or "sid" in body):
                            recordings.append(body)
    return recordings


def parse(family: str, raw: dict) -> sw.Recording:
    if family == "relay":
        return sw.Recording.from_api(raw)
    return sw.Recording.from_compat(raw, "example")


def examples() -> list:
    if not FOLDER.is_dir():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"no {FOLDER}"))]
    cases = []
    for family in FILES:
        spec = load(family)
        for name, schema in recording_schemas(spec, family).items():
            for index, raw in enumerate(assembled(spec, schema)):
                cases.append(pytest.param(family, name, raw, id=f"{family}-{name}-{index}"))
        for index, raw in enumerate(response_examples(spec, family)):
            cases.append(pytest.param(family, "response", raw, id=f"{family}-response-{index}"))
    return cases


@pytest.mark.parametrize(("family", "schema", "raw"), examples())
def test_every_example_recording_parses_with_no_problems(family, schema, raw):
    recording = parse(family, raw)
    assert recording.problems == (), f"{schema}: {recording.problems}"
    assert recording.id and recording.created_at and recording.family == family


def test_the_examples_cover_every_kind_of_recording():
    if not FOLDER.is_dir():
        pytest.skip(f"no {FOLDER}")
    relay = recording_schemas(load("relay"), "relay")
    assert {"PstnRecording", "SipRecording", "WebRtcRecording", "ConferenceRecording"} <= set(relay)
    kinds = {parse("relay", assembled(load("relay"), s)[0]).source for s in relay.values()}
    assert kinds == {"pstn", "sip", "webrtc", "conference"}
    assert recording_schemas(load("compat"), "compat")


def test_the_example_compatibility_price_is_a_cost():
    if not FOLDER.is_dir():
        pytest.skip(f"no {FOLDER}")
    spec = load("compat")
    [raw] = assembled(spec, spec["components"]["schemas"]["Recording"])
    recording = parse("compat", raw)
    assert raw["price"].startswith("-") and recording.price > 0
    assert recording.url.startswith("https://example.signalwire.com/api/laml/2010-04-01/")
    assert not recording.url.endswith(".json")


def test_the_example_next_page_uri_is_followed():
    if not FOLDER.is_dir():
        pytest.skip(f"no {FOLDER}")
    spec = load("compat")
    [listing] = assembled(spec, spec["components"]["schemas"]["RecordingListResponse"])
    account = listing["first_page_uri"].split("/Accounts/", 1)[1].split("/", 1)[0]
    cursor = compat.page_cursor(
        "https://example.signalwire.com", compat.list_path(account), listing["next_page_uri"]
    )
    assert cursor and cursor.startswith("Page=1&PageSize=50&PageToken=")
