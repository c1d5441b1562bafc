"""One emulator (launcher + plugin) per test session on a free 127.0.0.1 port, and deploy helpers.

Tests share the emulator and keep apart by giving every stack and resource a unique name.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

EMULATOR = Path(__file__).resolve().parents[1] / "emulator.py"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_emulator() -> Iterator[str]:
    """A fresh emulator process on a free port, killed on the way out; yields its endpoint."""
    port = _free_port()
    # A file, not a pipe: the server logs every request and would block on a full pipe.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, str(EMULATOR), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"emulator exited: {log.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("emulator did not listen within 30 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()
        log.close()


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    with running_emulator() as url:
        yield url


@pytest.fixture(scope="session")
def aws(endpoint: str) -> Any:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    return client


@pytest.fixture
def name() -> str:
    """A unique lowercase name for this test's stacks and resources."""
    return f"t{uuid.uuid4().hex[:10]}"


def deploy(
    cf: Any,
    stack: str,
    template: dict[str, Any] | str,
    parameters: dict[str, str] | None = None,
    change_set_type: str | None = None,
) -> dict[str, Any]:
    """Create and execute a change set (CREATE when the stack is new, else UPDATE) the way the
    deploy does; returns the change set description as it was before execution."""
    if change_set_type is None:
        try:
            status = cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
            change_set_type = "CREATE" if status == "REVIEW_IN_PROGRESS" else "UPDATE"
        except cf.exceptions.ClientError:
            change_set_type = "CREATE"
    body = template if isinstance(template, str) else json.dumps(template)
    change_set = f"cs-{uuid.uuid4().hex[:8]}"
    cf.create_change_set(
        StackName=stack,
        ChangeSetName=change_set,
        ChangeSetType=change_set_type,
        TemplateBody=body,
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    described: dict[str, Any] = cf.describe_change_set(StackName=stack, ChangeSetName=change_set)
    if described["Status"] == "CREATE_COMPLETE":
        cf.execute_change_set(StackName=stack, ChangeSetName=change_set)
    return described


def stack_of(cf: Any, stack: str) -> dict[str, Any]:
    return cf.describe_stacks(StackName=stack)["Stacks"][0]  # type: ignore[no-any-return]


def outputs(cf: Any, stack: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack_of(cf, stack).get("Outputs", [])}


def physical_ids(cf: Any, stack: str) -> dict[str, str]:
    summaries = cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries}


def tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", f"#!/bin/sh\n# {uuid.uuid4()}\n")
    return buffer.getvalue()
