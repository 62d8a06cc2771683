"""pip-audit's verdict on a lock file, read from its JSON report (`--format json`).

Fails (exit 1) on any known vulnerability. A dependency pip-audit could not look up
(its service unreachable, or answering 404 as a mirror of PyPI without the JSON API
does) is no vulnerability found: it is named as not audited, loudly, and does not fail
the build, since a network that cannot reach the service says nothing about the code.
Usage: python .ci/audit_verdict.py REPORT.json LOCKFILE
"""

import json
import sys


def verdict(report: dict, lock: str) -> tuple[int, list[str]]:
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            lines.append(
                f"VULNERABLE: {dependency['name']} {dependency['version']}: {vuln['id']}"
                f" (fixed in: {fixed})"
            )
    if skipped:
        lines.append(
            f"== NOT AUDITED: {len(skipped)} of {len(dependencies)} packages in {lock} could"
            " not be looked up by pip-audit; no vulnerability check was made for them."
            f" The first reason: {skipped[0]['skip_reason']}"
        )
    if vulnerable:
        lines.append(f"== pip-audit: known vulnerabilities in {lock}: upgrade (bash .ci/lock)")
        return 1, lines
    if audited:
        lines.append(f"== pip-audit: {audited} packages in {lock} audited, none known vulnerable")
    return 0, lines


def main() -> int:
    path, lock = sys.argv[1], sys.argv[2]
    with open(path) as file:
        status, lines = verdict(json.load(file), lock)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
