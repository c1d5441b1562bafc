"""The data `cargo xtask dev` keeps: it survives SIGKILL, concurrent writers and damaged lines."""

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

EMULATOR = Path(__file__).resolve().parent.parent / "emulator.py"


class Running:
    def __init__(self, folder: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.log = open(folder.parent / f"emulator-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(EMULATOR), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MUMBLE_EMULATOR_DATA": str(folder)},
        )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, "the emulator exited during start-up"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not listen within 60 s"
                time.sleep(0.1)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def report(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/mumble-api/persistence"
        with urllib.request.urlopen(url) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    def stop(self, sig: int) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data" / "emulator"
    data.parent.mkdir(parents=True)
    yield data


def _table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="items",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )


def _count(dynamodb: Any) -> int:
    return int(dynamodb.scan(TableName="items", Select="COUNT")["Count"])


def test_concurrent_changes_survive_sigkill_and_reads_are_not_logged(folder: Path) -> None:
    first = Running(folder)
    dynamodb = first.client("dynamodb")
    _table(dynamodb)
    idp = first.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="people")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="site")["UserPoolClient"]
    sub = idp.sign_up(ClientId=client["ClientId"], Username="a@example.com", Password="Pw-12345678")[
        "UserSub"
    ]

    def put(n: int) -> None:
        dynamodb.put_item(TableName="items", Item={"pk": {"S": f"item-{n}"}})
        dynamodb.get_item(TableName="items", Key={"pk": {"S": f"item-{n}"}})

    with concurrent.futures.ThreadPoolExecutor(16) as pool_of_threads:
        list(pool_of_threads.map(put, range(300)))
    first.stop(signal.SIGKILL)
    lines = (folder / "log.jsonl").read_text().splitlines()
    assert all(json.loads(line)["op"] != "DynamoDB_20120810.GetItem" for line in lines)

    second = Running(folder)
    try:
        report = second.report()
        assert report["skipped"] == [] and report["replayed"] == len(lines)
        assert _count(second.client("dynamodb")) == 300
        users = second.client("cognito-idp").list_users(UserPoolId=pool)["Users"]
        subs = [a["Value"] for u in users for a in u["Attributes"] if a["Name"] == "sub"]
        assert subs == [sub], "the user must keep the id their pictures are filed under"
    finally:
        second.stop(signal.SIGTERM)
    assert (folder / "snapshot.pickle").exists()

    third = Running(folder)
    try:
        report = third.report()
        assert report["replayed"] == 0 and report["snapshot"]["seq"] == len(lines)
        assert _count(third.client("dynamodb")) == 300
    finally:
        third.stop(signal.SIGTERM)


def test_a_damaged_line_is_reported_and_the_rest_is_kept(folder: Path) -> None:
    first = Running(folder)
    dynamodb = first.client("dynamodb")
    _table(dynamodb)
    for n in range(5):
        dynamodb.put_item(TableName="items", Item={"pk": {"S": f"item-{n}"}})
    first.stop(signal.SIGKILL)
    log = folder / "log.jsonl"
    lines = log.read_text().splitlines()
    # Two entries run together on one line (as unsynchronised writers made them), one cut short.
    damaged = [lines[0], lines[1] + lines[2], lines[3], lines[4][:60], lines[5]]
    log.write_text("\n".join(damaged) + "\n")

    second = Running(folder)
    try:
        report = second.report()
        assert len(report["skipped"]) == 1, report
        skipped = report["skipped"][0]
        assert skipped["operation"] == "DynamoDB_20120810.PutItem" and skipped["seq"] == 5
        assert _count(second.client("dynamodb")) == 4
    finally:
        second.stop(signal.SIGTERM)


def test_the_emulator_saves_and_stops_when_its_parent_dies(folder: Path, tmp_path: Path) -> None:
    # A parent that starts the emulator and is then killed, as a SIGKILLed `cargo xtask dev` is.
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, {str(EMULATOR)!r}, '-H', '127.0.0.1', '-p', sys.argv[1]])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    parent = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        stdout=subprocess.PIPE,
        env={**os.environ, "MUMBLE_EMULATOR_DATA": str(folder)},
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    _table(dynamodb)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while Path(f"/proc/{child}").exists() and "Z" not in _state(child):
        assert time.monotonic() < deadline, "the orphaned emulator kept running"
        time.sleep(0.1)
    assert (folder / "snapshot.pickle").exists(), "it saved a snapshot before stopping"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"
