"""Start-up and shutdown of the real `serve` / `demo` processes: a refused start is one line `error: …` with exit
code 2 and leaves no data directory; secrets reach stdout only when it is a terminal; Ctrl-C and SIGTERM under
load stop the server without a traceback; a read-only data directory or an unreadable journal is refused."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from isomargin.server.testing import RunningVenue, free_port, signed
from tmpfs import small_tmpfs

SERVER = [sys.executable, "-m", "isomargin.server.cli"]


def run_cli(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVER, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})  # fmt: skip


def one_error_line(proc: subprocess.CompletedProcess[str], code: str) -> str:
    """The process refused to start with exactly one line `error: <code>: …` and exit code 2."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {code}: "), proc.stderr
    assert proc.stdout == "", proc.stdout  # no banner, no keys
    return lines[0]


@contextlib.contextmanager
def listener() -> Iterator[int]:
    """A port some other program already listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536"])
def test_port_out_of_range_is_one_line_and_creates_nothing(tmp_path: Path, port: str) -> None:
    data = tmp_path / "data"
    line = one_error_line(run_cli("serve", "--port", port, "--data", str(data), timeout=20), "bad_port")
    assert port in line and not data.exists()


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_port_in_use_is_one_line_and_leaves_no_data_dir(tmp_path: Path, command: str) -> None:
    data = tmp_path / "data"
    with listener() as port:
        proc = run_cli(command, "--port", str(port), "--data", str(data), env={"ISOMARGIN_ADMIN_KEY": ""})
    line = one_error_line(proc, "port_in_use")
    assert line == f"error: port_in_use: 127.0.0.1:{port} is already in use"
    assert not data.exists()  # no journal, no keys, no admin-key file


def test_bad_trusted_proxy_and_bad_host_are_refused_before_binding(tmp_path: Path) -> None:
    data = tmp_path / "data"
    one_error_line(run_cli("serve", "--port", str(free_port()), "--data", str(data), "--trusted-proxy", "10.0.0.0/33"),
                   "bad_trusted_proxy")  # fmt: skip
    one_error_line(run_cli("serve", "--port", str(free_port()), "--data", str(data), "--host", "no-such-host.invalid"),
                   "bad_host")  # fmt: skip
    assert not data.exists()


def test_a_journal_that_is_not_one_is_refused_with_its_code(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "journal.sqlite3").write_bytes(b"this is not a database\n" * 200)
    proc = run_cli("serve", "--port", str(free_port()), "--data", str(data), "--no-feed", "--no-market-maker")
    assert proc.returncode == 2 and proc.stdout == "", (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr


def test_secrets_stay_out_of_a_redirected_stdout(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with RunningVenue(data, "--demo-account", "--no-feed", "--no-market-maker", admin_key="admin-s3cret") as v:
        creds = v.credentials()
        status, _ = signed(v.base, "/api/v1/account", creds["apiKey"], creds["secret"])
        assert status == 200
    log = (tmp_path / "data-server.log").read_text()
    assert "isomargin venue on" in log and creds["apiKey"] in log
    assert creds["secret"] not in log and "admin-s3cret" not in log
    assert "demo-credentials.json" in log  # says where the secret is instead
    assert (data / "demo-credentials.json").stat().st_mode & 0o777 == 0o600


def test_demo_writes_its_generated_admin_key_to_a_0600_file_not_to_stdout(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    env = {k: v for k, v in os.environ.items() if k != "ISOMARGIN_ADMIN_KEY"}
    proc = subprocess.Popen([*SERVER, "demo", "--port", str(port), "--data", str(data)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_healthy(port, proc)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    key = (data / "admin-key").read_text().strip()
    secret = json.loads((data / "demo-credentials.json").read_text())["secret"]
    assert (data / "admin-key").stat().st_mode & 0o777 == 0o600
    assert key and key not in out and secret not in out and "Traceback" not in err, (out, err)


def test_a_terminal_is_shown_the_demo_secret(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    main, child = pty.openpty()
    proc = subprocess.Popen([*SERVER, "serve", "--port", str(port), "--data", str(data), "--demo-account",
                             "--no-feed", "--no-market-maker"], stdout=child, stderr=subprocess.PIPE)  # fmt: skip
    os.close(child)
    try:
        wait_healthy(port, proc)
        out = read_pty(main, b"dashboard", 10)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        os.close(main)
    secret = json.loads((data / "demo-credentials.json").read_text())["secret"]
    assert secret.encode() in out and b"/dashboard#key=" in out


def read_pty(fd: int, until: bytes, timeout: float) -> bytes:
    got = b""
    deadline = time.time() + timeout
    while until not in got and time.time() < deadline:
        with contextlib.suppress(OSError):
            got += os.read(fd, 4096)
    time.sleep(0.2)  # the rest of the banner's lines
    os.set_blocking(fd, False)
    with contextlib.suppress(OSError):
        got += os.read(fd, 65536)
    return got


def wait_healthy(port: int, proc: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if b"200 OK" in s.recv(4096):
                return
        time.sleep(0.1)
    raise AssertionError("server did not come up")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_under_load_is_clean(tmp_path: Path, sig: signal.Signals) -> None:
    """The demo market and 4 clients keep the group committer busy while the signal arrives: the server
    drains, closes the journal and exits by the signal, with nothing on stderr; a restart recovers."""
    data, port = tmp_path / "data", free_port()
    proc = subprocess.Popen([*SERVER, "serve", "--port", str(port), "--data", str(data), "--demo-account",
                             "--rate-limit", "0"], env={**os.environ, "ISOMARGIN_ADMIN_KEY": "k"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_healthy(port, proc)
    creds = json.loads((data / "demo-credentials.json").read_text())
    base = f"http://127.0.0.1:{port}"
    answered: list[int] = []
    acked: list[int] = []  # order ids the server acknowledged

    def client() -> None:
        body = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.004", "price": "30000"}
        while True:
            try:
                status, order = signed(base, "/api/v1/orders", creds["apiKey"], creds["secret"], "POST", body=body)
                answered.append(status)
                if status == 200:
                    acked.append(order["order_id"])
            except OSError:
                return  # the server went away; how it went is what the test looks at

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    for t in threads:
        t.join(30)
    # exits by the signal, as uvicorn does (Python reports -N; through a shell it is 128 + N)
    assert proc.returncode in (-sig, 128 + sig), (proc.returncode, err)
    assert err.strip() == "", err
    assert answered.count(200) > 10 and set(answered) <= {200, 503}, answered
    with RunningVenue(data, "--no-feed", "--no-market-maker", "--rate-limit", "0", admin_key="k") as v:
        # every acknowledged order survived the stop (listings are capped, so each is asked for by id)
        key, secret = creds["apiKey"], creds["secret"]
        lost = [oid for oid in acked if signed(v.base, f"/api/v1/orders/{oid}", key, secret)[0] != 200]
        assert lost == [] and len(acked) == answered.count(200)


def test_read_only_data_dir_is_one_line(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "ro", "8m") as mnt:
        data = mnt / "data"
        with RunningVenue(data, "--no-feed", "--no-market-maker"):
            pass  # a journal, keys and meta, as a venue leaves them
        (mnt / "data-server.log").unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        for target in (data, mnt / "fresh"):  # the existing venue, and one that would have to be created
            proc = run_cli("serve", "--port", str(free_port()), "--data", str(target), "--no-feed", "--no-market-maker")
            one_error_line(proc, "journal_read_only")
