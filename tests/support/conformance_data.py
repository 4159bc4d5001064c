"""Where the AWS-recorded conformance data is: the copy in tests/conformance/aws-snapshots (so a clean clone
has it), else the shared folder beside the repository. Missing data fails the tests; it never skips them."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def snapshots_dir() -> Path:
    here = REPO / "tests" / "conformance" / "aws-snapshots"
    for candidate in (here, REPO.parent / "shared" / "conformance" / "aws-snapshots"):
        if (candidate / "test_lambda_integration_kinesis.snapshot.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"AWS conformance snapshots not found in {REPO / 'tests/conformance/aws-snapshots'} or ../shared/conformance"
    )
