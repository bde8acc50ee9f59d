"""Helpers for tests, benches and scripts: run a venue server on a free loopback port — in a subprocess
(`RunningVenue`) or in this process on a thread (`InProcessVenue`, whose `venue` a test can reach into) — and
make signed requests to it the way Binance clients do.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from isomargin.server.keys import sign

if TYPE_CHECKING:
    from isomargin.server.config import VenueConfig
    from isomargin.server.venue import Venue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class VenueClient:
    """What tests do with a live venue: operator calls, accounts with keys, the demo credentials."""

    base: str
    admin_key: str
    data: Path

    def credentials(self) -> dict[str, Any]:
        return dict(json.loads((self.data / "demo-credentials.json").read_text()))

    def admin(self, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
        return request(self.base + "/api/v1/admin/" + path, method, body, {"X-Admin-Key": self.admin_key})[1]

    def new_account(self, deposit: str = "100000", permissions: tuple[str, ...] = ("read", "trade")) -> dict[str, Any]:
        acct = self.admin("accounts", {"deposit": deposit, "api_key": False})
        key = self.admin("api-keys", {"account": acct["account"], "permissions": list(permissions)})
        return {"account": acct["account"], "apiKey": key["apiKey"], "secret": key["secret"]}


class RunningVenue(VenueClient):
    """`isomargin serve` in a child process; `stop()` (or leaving the `with`) terminates it."""

    def __init__(self, data: Path, *extra: str, admin_key: str = "test-admin", port: int | None = None) -> None:
        self.data = data
        self.port = port or free_port()
        self.admin_key = admin_key
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ISOMARGIN_ADMIN_KEY": admin_key}
        self.log = open(data.parent / f"{data.name}-server.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "isomargin.server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--data", str(data), *extra],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not come up within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self) -> RunningVenue:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class InProcessVenue(VenueClient):
    """The venue app under uvicorn on a thread of this process, so a test can reach the running `venue` (its
    engine, journal, histories). A real server on loopback all the same; `stop()` shuts it down cleanly."""

    def __init__(self, config: VenueConfig, port: int | None = None) -> None:
        import uvicorn

        from isomargin.server.app import create_app, server_config

        if config.admin_key is None:
            raise ValueError("InProcessVenue needs a config with an admin_key")
        self.data, self.admin_key = config.data_dir, config.admin_key
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        ready: list[Venue] = []
        app = create_app(config, on_ready=ready.append)
        settings = server_config(app)  # the CLI's settings (no proxy headers believed)
        settings.host, settings.port = "127.0.0.1", self.port
        self.server = uvicorn.Server(settings)
        self.thread = threading.Thread(target=self.server.run, name="isomargin-test-venue", daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not (self.server.started and ready):
            if not self.thread.is_alive() or time.time() > deadline:
                self.stop()
                raise RuntimeError("in-process venue did not come up within 30 s")
            time.sleep(0.05)
        self.venue = ready[0]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def __enter__(self) -> InProcessVenue:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def request(
    url: str, method: str = "GET", body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw.decode(errors="replace")


def signed(
    base: str, path: str, key: str, secret: str, method: str = "GET", params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None, timestamp: int | None = None,
) -> tuple[int, Any]:  # fmt: skip
    """A signed request: params in the query, optional JSON body, signature over query + body."""
    q = dict(params or {})
    q["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
    query = urlencode(q)
    raw = json.dumps(body) if body is not None else ""
    query += "&signature=" + sign(secret, query + raw)
    data = raw.encode() if body is not None else None
    req = urllib.request.Request(f"{base}{path}?{query}", data=data, method=method,
                                 headers={"X-MBX-APIKEY": key, "Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        raw_err = err.read()
        try:
            return err.code, json.loads(raw_err)
        except ValueError:
            return err.code, raw_err.decode(errors="replace")


def ccxt_urls(base: str) -> dict[str, str]:
    """ccxt `urls['api']` entries pointing Binance USDⓈ-M (binanceusdm), COIN-M (binancecoinm), spot (/api/v3) and
    isolated margin (/sapi) and options (/eapi) here."""
    return {
        "fapiPublic": f"{base}/fapi/v1", "fapiPublicV2": f"{base}/fapi/v2", "fapiPublicV3": f"{base}/fapi/v3",
        "fapiPrivate": f"{base}/fapi/v1", "fapiPrivateV2": f"{base}/fapi/v2", "fapiPrivateV3": f"{base}/fapi/v3",
        "fapiData": f"{base}/futures/data", "public": f"{base}/api/v3", "private": f"{base}/api/v3",
        "dapiPublic": f"{base}/dapi/v1", "dapiPrivate": f"{base}/dapi/v1", "dapiPrivateV2": f"{base}/dapi/v2",
        "dapiData": f"{base}/futures/data", "sapi": f"{base}/sapi/v1", "sapiV2": f"{base}/sapi/v2",
        "sapiV3": f"{base}/sapi/v3", "sapiV4": f"{base}/sapi/v4", "eapiPublic": f"{base}/eapi/v1",
        "eapiPrivate": f"{base}/eapi/v1",
    }  # fmt: skip
