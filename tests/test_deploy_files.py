"""The files an operator builds and installs from, checked without Docker: the lock files
pin what pyproject.toml declares, the Dockerfile builds from the lock as a non-root
image with a health check, compose.yaml's services run commands that exist, and
pip-audit's verdict fails on a vulnerability but not on a service it cannot reach.
(.ci/check-deploy also lints the Dockerfile and has Docker Compose read compose.yaml.)"""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.MULTILINE)
    }


@pytest.mark.parametrize(
    ("lock", "declared"),
    [
        ("requirements.lock", PYPROJECT["dependencies"]),
        (
            "requirements-dev.lock",
            PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"],
        ),
    ],
)
def test_each_lock_pins_every_declared_dependency_within_its_bounds(lock, declared):
    pinned = pins(lock)
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in {lock}: run bash .ci/lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement.specifier}:"
            " run bash .ci/lock"
        )


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_in_the_locks_has_hashes(lock):
    text = (ROOT / lock).read_text()
    assert text.startswith("# Made from pyproject.toml by `bash .ci/lock`")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1])
    assert entries
    for entry in entries:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_app_lock_holds_nothing_only_the_tests_need():
    assert not {"pytest", "ruff", "playwright", "pip-audit"} & set(pins("requirements.lock"))


def test_one_source_of_truth_for_dependencies():
    assert not (ROOT / "requirements.txt").exists()
    assert not (ROOT / "requirements-dev.txt").exists()
    assert "--require-hashes -r requirements-dev.lock" in (ROOT / ".ci" / "run").read_text()


def dockerfile() -> str:
    # Continuation lines joined, so each instruction is one line.
    return (ROOT / "Dockerfile").read_text().replace("\\\n", " ")


def test_the_image_is_built_in_stages_from_the_app_lock():
    text = dockerfile()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    assert re.search(r"^COPY requirements\.lock ", text, re.MULTILINE)
    assert re.search(r"pip install --require-hashes .*-r \S*requirements\.lock", text)
    assert re.search(r"^COPY --from=build /venv /venv", text, re.MULTILINE)


def test_the_image_collects_static_files_without_keeping_the_build_keys():
    text = dockerfile()
    assert re.search(r"^RUN .*manage\.py collectstatic --noinput", text, re.MULTILINE)
    environment = " ".join(re.findall(r"^(?:ENV|ARG) .*", text, re.MULTILINE))
    assert "SECRET_KEY" not in environment
    assert "CREDENTIALS_KEYS" not in environment


def test_the_image_runs_as_a_user_other_than_root():
    users = re.findall(r"^USER (\S+)", dockerfile(), re.MULTILINE)
    assert users, "no USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_image_checks_its_health_and_starts_gunicorn():
    text = dockerfile()
    healthcheck = re.search(r"^HEALTHCHECK .*", text, re.MULTILINE)
    assert healthcheck and "/healthz/live" in healthcheck.group()
    command = re.findall(r"^CMD (.*)", text, re.MULTILINE)[-1]
    assert json.loads(command)[0] == "gunicorn"


def test_dockerignore_keeps_secrets_and_local_state_out_and_the_lock_in():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".env", "secrets/", ".venv", ".git", "db.sqlite3*", "data/"):
        assert entry in ignored
    assert "!requirements.lock" in ignored


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_the_database_the_cache_the_web_server_and_the_worker(compose):
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker"} <= set(services)
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    for name in ("migrate", "web", "worker"):
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["web"]["image"]


def test_compose_commands_are_ones_the_image_has(compose):
    services = compose["services"]
    commands = ROOT / "recordings_app" / "management" / "commands"
    assert services["worker"]["command"][:3] == ["python", "manage.py", "worker"]
    assert (commands / "worker.py").exists()
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert "command" not in services["web"]  # the image's: gunicorn with gunicorn.conf.py
    assert services["worker"]["healthcheck"] == {"disable": True}


def test_compose_starts_the_app_after_migrate_finished_and_the_services_are_healthy(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_compose_hands_secrets_over_as_files_the_settings_read(compose):
    settings = (ROOT / "dashboard" / "settings.py").read_text()
    for name in ("migrate", "web", "worker"):
        service = compose["services"][name]
        for variable, value in service["environment"].items():
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert secret in service["secrets"]
                assert secret in compose["secrets"]
                assert f'envsecret("{variable.removesuffix("_FILE")}")' in settings or (
                    f'secretlist("{variable.removesuffix("_FILE")}")' in settings
                )
    postgres = compose["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"


def test_compose_secrets_script_makes_every_secret_compose_names(compose, tmp_path):
    script = ROOT / "deploy" / "compose-secrets"
    subprocess.run(["bash", str(script), str(tmp_path)], check=True, capture_output=True)
    for secret in compose["secrets"].values():
        path = tmp_path / Path(secret["file"]).name
        assert path.read_text().strip()
    url = (tmp_path / "database_url").read_text()
    assert url.startswith("postgres://dashboard:" + (tmp_path / "postgres_password").read_text())


def audit(report: dict, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(report))
    command = [sys.executable, str(ROOT / ".ci" / "audit_verdict.py"), str(path), "x.lock"]
    return subprocess.run(command, capture_output=True, text=True)


def test_a_known_vulnerability_fails_the_audit(tmp_path):
    vulnerability = {"id": "PYSEC-2024-1", "fix_versions": ["5.2.20"], "aliases": []}
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": [vulnerability]},
            {"name": "requests", "version": "2.34.2", "vulns": []},
        ]
    }
    result = audit(report, tmp_path)
    assert result.returncode == 1
    assert "VULNERABLE: django 5.2.19: PYSEC-2024-1 (fixed in: 5.2.20)" in result.stdout


def test_packages_the_service_could_not_look_up_are_named_and_do_not_fail(tmp_path):
    skipped = {"name": "django", "skip_reason": "Dependency not found on PyPI"}
    report = {"dependencies": [skipped, {"name": "requests", "version": "2", "vulns": []}]}
    result = audit(report, tmp_path)
    assert result.returncode == 0
    assert "NOT AUDITED: 1 of 2 packages in x.lock" in result.stdout
    assert "1 packages in x.lock audited, none known vulnerable" in result.stdout


def test_a_vulnerability_fails_even_when_other_packages_were_not_audited(tmp_path):
    report = {
        "dependencies": [
            {"name": "django", "skip_reason": "Dependency not found on PyPI"},
            {"name": "av", "version": "15", "vulns": [{"id": "GHSA-1", "fix_versions": []}]},
        ]
    }
    assert audit(report, tmp_path).returncode == 1
