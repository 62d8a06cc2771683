""".env.example lists every setting the dashboard reads, so an operator can find them all
in one file: a variable read by dashboard/settings.py or gunicorn.conf.py and missing
from it fails here, and so does one it lists that nothing reads any more."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The helpers in dashboard/settings.py that take the variable's name first; the secret
# ones read NAME_FILE as well.
READERS = {"get", "getenv", "envbool", "envfloat", "envint", "envlist"}
SECRET_READERS = {"envsecret", "secretlist"}


def variables_read_by(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
        if not (isinstance(node, ast.Call) and node.args):
            continue
        called = node.func
        function = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        if function in SECRET_READERS:
            names |= {first.value, f"{first.value}_FILE"}
        elif function in READERS and (
            function != "get"
            or (isinstance(called, ast.Attribute) and ast.unparse(called.value) == "os.environ")
        ):
            names.add(first.value)
    return names


def variables_listed() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def variables_read() -> set[str]:
    return variables_read_by(ROOT / "dashboard" / "settings.py") | variables_read_by(
        ROOT / "gunicorn.conf.py"
    )


def test_the_settings_module_is_read_as_expected():
    read = variables_read()
    # A few from each kind of helper: if these vanish, the parsing above broke.
    assert {"DEBUG", "ALLOWED_HOSTS", "SECRET_KEY", "SECRET_KEY_FILE", "REDIS_URL"} <= read
    assert {"CREDENTIALS_KEYS_FILE", "SIGNALWIRE_READ_TIMEOUT", "PORT", "GUNICORN_WORKERS"} <= read


def test_every_variable_the_dashboard_reads_is_in_env_example():
    missing = sorted(variables_read() - variables_listed())
    assert not missing, f"add to .env.example, with a comment and the default: {missing}"


def test_env_example_lists_nothing_the_dashboard_does_not_read():
    # compose.yaml's own: the port it publishes the web server on.
    compose_only = {"WEB_PORT"}
    stale = sorted(variables_listed() - variables_read() - compose_only)
    assert not stale, f"nothing reads these any more: {stale}"


def test_each_listed_variable_has_a_comment_above_it():
    variable = re.compile(r"^#? ?[A-Z][A-Z0-9_]*=")
    lines = (ROOT / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if variable.match(line):
            # Its NAME_FILE twin or a group of variables share the comment above them.
            above = next(text for text in reversed(lines[:number]) if not variable.match(text))
            assert above.startswith("# "), f"no comment above {line!r}"
