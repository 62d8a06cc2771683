"""The test OpenID Connect provider (provider.mjs, panva's oidc-provider) on loopback,
for the OIDC tests: `with LoopbackProvider(redirect_uris=[...]) as provider: ...`.

Its packages come from `npm ci --prefix tests/oidc_provider` (.ci/run does it). Without
npm at all the OIDC tests skip and say why; with npm but no node_modules they fail,
so a CI that forgot the install step does not pass by skipping them.
"""

import copy
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
CLIENT_ID = "dashboard"
CLIENT_SECRET = "dashboard-test-secret"  # noqa: S105 - the test provider's own
PEOPLE = {"dana": "dana-company-password", "erin": "erin-company-password"}


def require_node() -> None:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("Node.js and npm are not installed: the test OIDC provider needs them")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "The test OIDC provider is not installed: run "
            "`npm ci --prefix tests/oidc_provider --no-audit --no-fund`"
        )


class LoopbackProvider:
    def __init__(self, redirect_uris: list[str], post_logout_redirect_uris: Sequence[str] = ()):
        self.redirect_uris = redirect_uris
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.issuer = ""
        self.output: list[str] = []

    def __enter__(self):
        require_node()
        environment = {
            **os.environ,
            "PROVIDER_PORT": "0",
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "REDIRECT_URIS": ",".join(self.redirect_uris),
            "POST_LOGOUT_REDIRECT_URIS": ",".join(self.post_logout_redirect_uris),
        }
        self.process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs")],
            cwd=HERE,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()

        def read_output():
            for line in self.process.stdout:
                self.output.append(line.rstrip())
                if line.startswith("listening on "):
                    self.issuer = line.removeprefix("listening on ").strip()
                    ready.set()
            ready.set()  # it ended

        threading.Thread(target=read_output, daemon=True).start()
        if not ready.wait(20) or not self.issuer:
            self.process.kill()
            raise RuntimeError("The test OIDC provider did not start:\n" + "\n".join(self.output))
        return self

    def __exit__(self, *exc_info):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def next_id_token(self, **claims) -> None:
        """The next ID token the provider issues carries these claims instead ("exp" and
        "iat" in seconds from now), signed with its real key."""
        requests.post(
            f"{self.issuer}/test/next-id-token", data=json.dumps(claims), timeout=5
        ).raise_for_status()


def set_up_company_login(settings, provider: LoopbackProvider) -> None:
    """The dashboard's settings as the README has an operator set them for this provider
    (OIDC_ISSUER, client, "Example Corp", the groups claim), local log-in still on."""
    from recordings_app import oidc

    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "Example Corp"
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "recordings_app.oidc.CompanyAccounts",
    ]
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(provider.issuer)
    settings.CONTENT_SECURITY_POLICY = policy
    oidc._discovered.clear()
