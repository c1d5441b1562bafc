"""Keeps the emulator's data on disk, so `cargo xtask dev` survives restarts, crashes and SIGKILL.

moto keeps everything in memory. With `MUMBLE_EMULATOR_DATA=DIR` set, this module:

- logs every request that changes something (not reads) to `DIR/log.jsonl`, one JSON line per
  request written with one `write` call while holding the emulator's request lock, before the
  answer leaves: an answered change is in the log even if the process is SIGKILLed a moment
  later. The file is fsynced at most a second after a change (a power cut loses that second);
- runs every request under that one lock, and seeds moto's random generator from the entry's
  sequence number before each change, so a change makes the same ids when it is replayed,
  whatever reads ran between changes;
- snapshots moto's backends (pickle) to `DIR/snapshot.pickle` after 1,000 changes, after
  10 seconds without one, on a clean stop (SIGTERM/SIGINT) and when its parent process dies.
  After each snapshot the log is moved aside to `DIR/history/` (the full history, used only when
  the snapshot cannot be read), so a restart loads the snapshot and replays a short tail;
- restores at start-up, before the server answers: snapshot plus tail. A damaged line or a
  change that replays differently is reported (sequence number, operation, what it touched) and
  skipped; everything else is kept. The report is served at `GET /mumble-api/persistence`.

A recording of moto's own recorder from earlier versions (`DIR/../emulator-requests.jsonl`) is
imported once, in its original order, and then kept as `emulator-requests.jsonl.imported`.

One file over 500 lines: recording, replaying and reporting damaged entries share the log's
format and must change together.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import os
import pickle
import re
import sys
import threading
import time
import urllib.parse
import weakref
from typing import Any, Callable

ENV = "MUMBLE_EMULATOR_DATA"
SNAPSHOT_FORMAT = 1
#: Changes after which a snapshot is taken even while changes keep coming.
SNAPSHOT_EVERY = 1000
#: Seconds without a change after which pending changes are snapshotted.
SNAPSHOT_IDLE = 10.0
FSYNC_EVERY = 1.0

# Operation names that only read (JSON and query protocols name the operation).
_READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Query",
    "Scan",
    "BatchGet",
    "TransactGet",
    "Head",
    "Search",
    "Lookup",
    "Filter",
    "Test",
    "Validate",
)


class Store:
    """The data folder and the state of logging in this process."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.log_path = os.path.join(folder, "log.jsonl")
        self.snapshot_path = os.path.join(folder, "snapshot.pickle")
        self.history = os.path.join(folder, "history")
        self.legacy = os.path.join(os.path.dirname(folder), "emulator-requests.jsonl")
        os.makedirs(self.history, exist_ok=True)
        self.lock = threading.RLock()
        self.next_seq = 1
        self.pending = 0  # changes since the last snapshot
        self.last_change = 0.0
        self.dirty = False  # written but not yet fsynced
        self.recording = False  # off while restoring
        self.fd: int | None = None
        self.report: dict[str, Any] = {"restored": False}
        self.snapshot_error: str | None = None

    # -- logging ---------------------------------------------------------------------------

    def open_log(self) -> None:
        if self.fd is not None:
            return
        self.fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        assert self.fd is not None
        view = memoryview(line)
        while view:  # a regular file takes it in one write; loop for the rare short write
            written = os.write(self.fd, view)
            view = view[written:]
        self.dirty = True
        self.pending += 1
        self.last_change = time.monotonic()

    def sync(self) -> None:
        if self.dirty and self.fd is not None:
            self.dirty = False
            os.fdatasync(self.fd)

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self, reason: str) -> None:
        """Writes the backends and moves the log aside; the caller holds the lock."""
        if self.pending == 0 and os.path.exists(self.snapshot_path):
            return
        started = time.monotonic()
        last = self.next_seq - 1
        tmp = self.snapshot_path + ".tmp"
        try:
            with open(tmp, "wb") as file:
                _Pickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(
                    {
                        "format": SNAPSHOT_FORMAT,
                        "moto": _moto_version(),
                        "seq": last,
                        "backends": _live_backends(),
                    }
                )
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.snapshot_path)
        except Exception as error:  # the log still holds everything: restarts get slower only
            self.snapshot_error = f"{type(error).__name__}: {error}"
            _say(f"snapshot failed ({self.snapshot_error}); the log keeps every change")
            try:
                os.remove(tmp)
            except OSError:
                pass
            self.pending = 0  # retried after the next SNAPSHOT_EVERY changes, not every second
            return
        self.snapshot_error = None
        # The snapshot holds everything up to `last`: the log so far becomes history.
        if self.fd is not None:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
        if os.path.exists(self.log_path) and os.path.getsize(self.log_path) > 0:
            os.replace(self.log_path, os.path.join(self.history, f"log-{last:010d}.jsonl"))
        self.open_log()
        _fsync_dir(self.folder)
        self.pending = 0
        self.dirty = False
        _say(
            f"snapshot at change {last} ({reason}, "
            f"{os.path.getsize(self.snapshot_path) // 1024} KB, "
            f"{(time.monotonic() - started) * 1000:.0f} ms)"
        )


_store: Store | None = None


def store() -> Store | None:
    return _store


def install() -> None:
    """Wraps moto's WSGI application when `MUMBLE_EMULATOR_DATA` names a folder."""
    global _store
    folder = os.environ.get(ENV)
    if not folder:
        return
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    _store = Store(folder)
    original_init = DomainDispatcherApplication.__init__
    original_call = DomainDispatcherApplication.__call__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # Restore before the server answers anything (moto builds this app just before serving).
        restore(_store, lambda environ: _call_collect(original_call, self, environ))
        _store.open_log()
        _store.recording = True
        threading.Thread(target=_background, args=(_store,), daemon=True).start()

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        return _serve(_store, original_call, self, environ, start_response)

    DomainDispatcherApplication.__init__ = init
    DomainDispatcherApplication.__call__ = call


def close(exit_code: int | None = None) -> None:
    """On a clean stop: a final snapshot, so the next start replays nothing. The lock is kept
    until the process ends, so no change is answered after the snapshot."""
    if _store is not None and _store.recording:
        _store.lock.acquire()
        _store.recording = False
        _store.snapshot("stop")
        _store.sync()
    if exit_code is not None:
        os._exit(exit_code)


# -- serving ---------------------------------------------------------------------------------


def _serve(st: Store, original_call: Callable, app: Any, environ: dict, start_response: Any) -> Any:
    path = environ.get("PATH_INFO", "")
    if path == "/mumble-api/persistence":
        body = json.dumps({**st.report, "snapshot_error": st.snapshot_error}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    body = _read_body(environ)
    operation, changes = classify(environ, body)
    with st.lock:
        if not (changes and st.recording):
            return _call_collect_into(original_call, app, environ, start_response)
        seq = st.next_seq
        st.next_seq += 1
        _seed(seq)
        status, headers, chunks = _call_collect(original_call, app, environ)
        st.append(
            {
                "seq": seq,
                "op": operation,
                "method": environ.get("REQUEST_METHOD", "GET"),
                "path": _raw_path(environ),
                "headers": _headers(environ),
                "body": base64.b64encode(body).decode("ascii"),
                "status": int(status.split(" ", 1)[0]),
            }
        )
    start_response(status, headers)
    return chunks


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back so moto reads it as usual."""
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH")
    if stream is None:
        return b""
    if length:
        body = stream.read(int(length))
    elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked" or environ.get(
        "wsgi.input_terminated"
    ):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def classify(environ: dict[str, Any], body: bytes) -> tuple[str, bool]:
    """(operation, whether it may change state) for one request."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api/") or path.startswith("/mumble-api/"):
        return f"{method} {path}", False
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        name = target.rsplit(".", 1)[-1]
        return target, not name.startswith(_READ_PREFIXES)
    if method in ("GET", "HEAD", "OPTIONS"):
        return f"{method} {path}", False
    action = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return action[0], not action[0].startswith(_READ_PREFIXES)
    return f"{method} {path}", True


def _seed(seq: int) -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(f"mumble-{seq}")


def _call_collect(original_call: Callable, app: Any, environ: dict) -> tuple[str, list, list]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = status, headers

    result = original_call(app, environ, start_response)
    try:
        chunks = list(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured.get("status", "500 INTERNAL SERVER ERROR"), captured.get("headers", []), chunks


def _call_collect_into(original_call: Callable, app: Any, environ: dict, start_response: Any) -> list:
    status, headers, chunks = _call_collect(original_call, app, environ)
    start_response(status, headers)
    return chunks


def _raw_path(environ: dict[str, Any]) -> str:
    path = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if path:
        return path
    path = urllib.parse.quote(environ.get("PATH_INFO", ""))
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


# -- background ------------------------------------------------------------------------------


def _background(st: Store) -> None:
    """fsync and periodic snapshots."""
    last_sync = time.monotonic()
    while True:
        time.sleep(0.25)
        now = time.monotonic()
        if now - last_sync >= FSYNC_EVERY:
            last_sync = now
            with st.lock:
                st.sync()
        if st.pending >= SNAPSHOT_EVERY or (st.pending and now - st.last_change >= SNAPSHOT_IDLE):
            with st.lock:
                if st.recording:
                    st.snapshot(f"{st.pending} changes")


# -- restoring -------------------------------------------------------------------------------


def restore(st: Store, call: Callable[[dict], tuple[str, list, list]]) -> None:
    started = time.monotonic()
    report: dict[str, Any] = {
        "restored": True,
        "snapshot": None,
        "replayed": 0,
        "skipped": [],
        "imported": None,
    }
    base = 0
    if os.path.exists(st.snapshot_path):
        try:
            base = _load_snapshot(st.snapshot_path)
            report["snapshot"] = {"seq": base}
        except Exception as error:
            report["snapshot_unreadable"] = f"{type(error).__name__}: {error}"
            _say(f"the snapshot cannot be read ({error}); replaying the whole history instead")
            base = 0
    files = [os.path.join(st.history, name) for name in sorted(os.listdir(st.history))]
    if base:
        # History before the snapshot is already in it.
        files = [path for path in files if _history_end(path) > base]
    files.append(st.log_path)
    last = base
    for path in files:
        for number, entry, problem in _entries(path):
            where = f"{os.path.basename(path)} line {number}"
            if problem:
                report["skipped"].append({"where": where, **_salvage(raw_text(path, number)), "problem": problem})
                continue
            seq = entry.get("seq", 0)
            if seq <= last:
                continue
            last = seq
            outcome = _replay(call, entry, seq)
            report["replayed"] += 1
            if outcome:
                report["skipped"].append(
                    {"where": where, "seq": seq, "operation": entry.get("op"), "problem": outcome}
                )
    st.next_seq = last + 1
    if last == 0 and not report["replayed"] and os.path.exists(st.legacy):
        report["imported"] = _import_legacy(st, call, report)
    report["seconds"] = round(time.monotonic() - started, 3)
    st.report = report
    st.pending = report["replayed"] or (1 if report["imported"] else 0)
    if st.pending:
        with st.lock:
            # Snapshot right away: the next restart replays nothing of this.
            st.recording = True
            st.snapshot("restored")
            st.recording = False
    _say(
        f"restored: snapshot {report['snapshot']}, {report['replayed']} changes replayed, "
        f"{len(report['skipped'])} skipped, in {report['seconds']} s"
    )
    for skipped in report["skipped"]:
        _say(f"skipped: {skipped}")


def raw_text(path: str, number: int) -> str:
    with open(path, "rb") as file:
        for current, raw in enumerate(file, start=1):
            if current == number:
                return raw.decode("utf-8", "replace")
    return ""


def _salvage(text: str) -> dict[str, Any]:
    """What a damaged line still says about itself: its number, operation and the names in it."""
    found: dict[str, Any] = {}
    if match := re.search(r'"seq":(\d+)', text):
        found["seq"] = int(match.group(1))
    if match := re.search(r'"op":"([^"]+)"', text):
        found["operation"] = match.group(1)
    body = re.search(r'"body":"([A-Za-z0-9+/=]+)', text)
    if body:
        try:
            decoded = base64.b64decode(body.group(1)[: len(body.group(1)) // 4 * 4]).decode("utf-8", "replace")
            names = re.findall(r'"(TableName|Username|Key|Name)"\s*:\s*("[^"]*"|\{[^}]*\})', decoded)
            if names:
                found["touching"] = ", ".join(f"{key} {value}" for key, value in names[:4])
        except ValueError:
            pass
    return found


def _history_end(path: str) -> int:
    match = re.search(r"log-(\d+)\.jsonl$", path)
    return int(match.group(1)) if match else sys.maxsize


def _entries(path: str):
    """(line number, entry, problem) for each line; a line with two entries run together (from
    unsynchronised writers) gives both."""
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        return
    decoder = json.JSONDecoder()
    with file:
        for number, raw in enumerate(file, start=1):
            text = raw.decode("utf-8", "replace").strip()
            position = 0
            while position < len(text):
                try:
                    entry, end = decoder.raw_decode(text, position)
                except json.JSONDecodeError as error:
                    yield number, None, (
                        f"not a whole entry ({len(text) - position} bytes: {error.msg}; "
                        f"starts {text[position:position + 120]!r})"
                    )
                    break
                if isinstance(entry, dict):
                    yield number, entry, None
                else:
                    yield number, None, f"not an entry: {text[position:position + 120]!r}"
                position = end
                while position < len(text) and text[position].isspace():
                    position += 1


def _replay(call: Callable, entry: dict[str, Any], seq: int | None) -> str | None:
    """Sends one logged request again; a description when it did not do what it did then."""
    from werkzeug.test import EnvironBuilder

    try:
        body = entry.get("body") or ""
        if entry.get("body_encoded", True) and body:
            data = base64.b64decode(body)
        else:
            data = body.encode() if isinstance(body, str) else b""
        headers = {
            key: value
            for key, value in (entry.get("headers") or {}).items()
            if key.lower() not in ("content-length", "transfer-encoding")
        }
        url = entry.get("path") or entry.get("url") or "/"
        parsed = urllib.parse.urlsplit(url)
        builder = EnvironBuilder(
            path=urllib.parse.unquote(parsed.path),
            query_string=parsed.query,
            method=entry.get("method", "GET"),
            headers=headers,
            data=data,
        )
        environ = builder.get_environ()
        environ["RAW_URI"] = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        if seq is not None:
            _seed(seq)
        status, _, chunks = call(environ)
    except Exception as error:
        return f"could not be sent again: {type(error).__name__}: {error}"
    code = int(status.split(" ", 1)[0])
    wanted = entry.get("status")
    if wanted is not None and (code >= 400) != (int(wanted) >= 400):
        text = b"".join(chunks)[:300].decode("utf-8", "replace")
        return f"answered {code} now, {wanted} when it was made: {text}"
    return None


def _import_legacy(st: Store, call: Callable, report: dict[str, Any]) -> dict[str, Any]:
    """moto's recorder file from earlier versions: every request in order, with moto's one seed."""
    count = 0
    for number, entry, problem in _entries(st.legacy):
        where = f"emulator-requests.jsonl line {number}"
        if problem:
            report["skipped"].append({"where": where, "problem": problem})
            continue
        count += 1
        outcome = _replay(call, entry, None)
        if outcome and entry.get("method") not in ("GET", "HEAD"):
            report["skipped"].append(
                {"where": where, "operation": f"{entry.get('method')} {entry.get('url')}", "problem": outcome}
            )
    os.replace(st.legacy, st.legacy + ".imported")
    return {"file": st.legacy, "requests": count}


# -- pickling moto ---------------------------------------------------------------------------


def _moto_version() -> str:
    import moto

    return moto.__version__


def _live_backends() -> dict[str, Any]:
    """Every BackendDict moto has loaded, under one module attribute name each."""
    from moto.core.base_backend import BackendDict

    found: dict[int, tuple[str, Any]] = {}
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("moto.") or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, BackendDict) and id(value) not in found:
                found[id(value)] = (f"{module_name}:{attribute}", value)
    return dict(found.values())


def _load_snapshot(path: str) -> int:
    import importlib

    with open(path, "rb") as file:
        data = pickle.load(file)
    if data.get("format") != SNAPSHOT_FORMAT or data.get("moto") != _moto_version():
        raise ValueError(
            f"snapshot format {data.get('format')} of moto {data.get('moto')}, "
            f"this emulator writes format {SNAPSHOT_FORMAT} with moto {_moto_version()}"
        )
    for name, loaded in data["backends"].items():
        module_name, attribute = name.split(":")
        live = getattr(importlib.import_module(module_name), attribute)
        live.clear()
        live.update(loaded)
    return int(data["seq"])


class _Factory:
    """A picklable stand-in for a `defaultdict` factory written as a lambda."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def __call__(self) -> Any:
        kind, inner = self.spec
        if kind == "defaultdict":
            return collections.defaultdict(_Factory(inner) if inner else None)
        return inner()


def _factory_spec(factory: Any) -> Any:
    if factory is None:
        return None
    if getattr(factory, "__name__", "") != "<lambda>":
        return ("call", factory)
    sample = factory()
    if isinstance(sample, collections.defaultdict):
        return ("defaultdict", _factory_spec(sample.default_factory))
    if type(sample) in (dict, list, set, int, str):
        return ("call", type(sample))
    raise TypeError(f"a defaultdict factory that makes {type(sample).__name__}")


def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _weak_values(items: dict[Any, Any]) -> Any:
    return weakref.WeakValueDictionary(items)


def _weak_keys(items: dict[Any, Any]) -> Any:
    return weakref.WeakKeyDictionary(items)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _LOCK_TYPES:
            return (kind, ())
        # Weak containers hold a local callback pickle cannot name: rebuild them from their items
        # (entries whose value nothing else holds vanish again, as they would have).
        if kind is weakref.WeakValueDictionary:
            return (_weak_values, (dict(obj.items()),))
        if kind is weakref.WeakKeyDictionary:
            return (_weak_keys, (dict(obj.items()),))
        if kind is weakref.WeakSet:
            return (weakref.WeakSet, (list(obj),))
        if kind is collections.defaultdict and getattr(obj.default_factory, "__name__", "") == "<lambda>":
            return (
                collections.defaultdict,
                (_Factory(_factory_spec(obj.default_factory)),),
                None,
                None,
                iter(obj.items()),
            )
        if kind.__module__.startswith("cryptography") and hasattr(obj, "private_bytes"):
            from cryptography.hazmat.primitives import serialization

            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return (_load_private_key, (pem,))
        return NotImplemented


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _say(message: str) -> None:
    print(f"mumble persistence: {message}", file=sys.stderr, flush=True)
