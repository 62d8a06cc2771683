"""Many servers under load (issue #16), shortened: two gunicorn servers as deployed,
sharing PostgreSQL and Redis behind a round-robin balancer, and agents browsing and
playing through it (bench/cluster.py runs the full 200 agents for 60 s and prints the
figures). Fails on any error, never on timings: the machine is shared.

Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, as on the project's
machines; it skips, saying so, only when one of them does not answer at all."""

import json
import os

import pytest

from bench.cluster import run_cluster
from tests.dashboard_processes import ROOT, scale_out_services_answer

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(
        not scale_out_services_answer(),
        reason="needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379",
    ),
]
AGENTS = int(os.environ.get("CLUSTER_AGENTS", "40"))
SECONDS = float(os.environ.get("CLUSTER_SECONDS", "20"))


def test_agents_browse_and_play_through_two_servers_without_errors(tmp_path):
    figures = run_cluster(AGENTS, SECONDS, tmp_path)
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "cluster-load.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["agents_unfinished"] == 0, figures
    assert figures["server_error_lines"] == 0, figures["server_error_samples"]
    # Every agent got through at least one whole round: a list, a page, a play.
    assert figures["by_kind"].get("list", 0) >= AGENTS, figures
    assert figures["by_kind"].get("play", 0) >= AGENTS, figures
