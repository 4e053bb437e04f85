"""Schemathesis against the live app: generated requests to every operation of the committed
schema find no server error and no response that breaks the schema. Prints its figures."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCHEMA = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, thread, tmp_path, monkeypatch
):
    # Hundreds of requests from one address: the per-address limit (tested in test_api) is
    # lifted for the run; the server runs in this process, so this reaches it.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(SCHEMA),
        "--url",
        live_server.url,
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples",
        "30",
        "--seed",
        "1",
        "--no-color",
        "--suppress-health-check",
        "all",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # noqa: S603
    output = run.stdout + run.stderr
    summary = [line for line in output.splitlines() if re.search(r"passed|failed|error", line)]
    print("\nschemathesis:", " | ".join(summary[-4:]))
    assert run.returncode == 0, output[-4000:]
