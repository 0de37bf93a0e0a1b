"""Lint IAM policy documents with parliament: the TypeScript infra tests' IAM reviewer.

The Pulumi program's policies are only ever evaluated by AWS at run time, where a statement whose
condition key does not apply to an action, or an action name that does not exist, silently grants
nothing. parliament knows every service's actions, resources and condition keys, so the infra
tests feed it every policy of the mocked graph and fail on what it finds (beyond a reviewed
allow-list kept beside the test).

Usage: python glue/tools/iam_lint.py < policies.json
Input: a JSON list of {"name": ..., "document": <policy JSON text>}.
Output: a JSON list of findings {"name", "issue", "severity", "title", "detail"}.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from parliament import analyze_policy_string, enhance_finding


def lint(policies: list[dict[str, str]]) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = []
    for policy in policies:
        analyzed = analyze_policy_string(
            policy["document"],
            filepath=policy["name"],
            ignore_private_auditors=True,
            include_community_auditors=False,
        )
        for finding in analyzed.findings:
            enhanced = enhance_finding(finding)
            findings.append(
                {
                    "name": policy["name"],
                    "issue": enhanced.issue,
                    "severity": enhanced.severity,
                    "title": enhanced.title,
                    "detail": json.loads(json.dumps(enhanced.detail, default=str)),
                }
            )
    return findings


def main() -> int:
    json.dump(lint(json.load(sys.stdin)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
