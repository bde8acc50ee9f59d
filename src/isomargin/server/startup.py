"""Start-up and shutdown of `isomargin serve` / `demo`, in the order that leaves nothing behind when a start is
refused: check the options, bind the port, then create the data directory and open the journal, then print
the banner and serve on the socket already bound. Exit codes: 0 stopped, 2 start refused (one line
`error: <code>: <message>`), 3 the engine or the journal failed while serving (fail-stop; restart recovers).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import typer

from isomargin.cliutil import fail
from isomargin.journal import JournalError
from isomargin.server.config import VenueConfig
from isomargin.server.errors import ApiError

if TYPE_CHECKING:
    from isomargin.server.venue import Venue

EXIT_REFUSED: Final = 2  # cliutil.fail's code: the venue never started
EXIT_HALTED: Final = 3  # the venue started, then failed (engine_failed / journal_failed) and stopped
PORT_MIN, PORT_MAX = 1, 65535
BACKLOG: Final = 2048  # uvicorn's default; connections made before the app is ready wait in it


def check_port(port: int) -> None:
    if not PORT_MIN <= port <= PORT_MAX:
        fail("bad_port", f"--port must be {PORT_MIN}..{PORT_MAX}, got {port}")


def trusted_networks(values: Sequence[str]) -> list[str]:
    """The --trusted-proxy values as normalised CIDRs (a bare address is its /32 or /128)."""
    out: list[str] = []
    for v in values:
        try:
            out.append(str(ipaddress.ip_network(v.strip(), strict=False)))
        except ValueError:
            fail("bad_trusted_proxy", f"--trusted-proxy takes an address or CIDR such as 10.0.0.0/8, got {v!r}")
    return out


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or the one-line error (port in use, no such address, denied)."""
    where = host_port(host, port)
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]  # fmt: skip
    except (socket.gaierror, UnicodeError) as exc:
        fail("bad_host", f"cannot resolve --host {host!r} ({exc})")
    sock = socket.socket(family, kind, proto)
    try:
        # as uvicorn does: a restart may reuse the port while old connections sit in TIME_WAIT; a live listener
        # still refuses the bind
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail("port_in_use", f"{where} is already in use")
        if exc.errno in (errno.EACCES, errno.EPERM):
            fail("port_denied", f"not allowed to bind {where} ({exc.strerror})")
        if exc.errno == errno.EADDRNOTAVAIL:
            fail("bad_host", f"{host} is not an address of this machine")
        fail("bind_failed", f"cannot bind {where}: {exc.strerror or exc}")
    sock.set_inheritable(False)
    return sock


def prepare_data_dir(path: Path) -> None:
    """Create the data directory; one that cannot be written is refused before the journal is opened."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        code = "journal_read_only" if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) else "data_dir"
        fail(code, f"cannot create the data directory {path}: {exc.strerror or exc}")
    if not path.is_dir():
        fail("data_dir", f"{path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):  # EROFS counts here even for root
        fail("journal_read_only", f"the data directory {path} is not writable")


def open_venue(config: VenueConfig) -> Venue:
    """The venue with its journal recovered and its markets set up, or the one-line error."""
    from isomargin.server.venue import Venue

    venue: Venue | None = None
    code: str
    try:
        venue = Venue(config)
        venue.bootstrap()
        return venue
    except JournalError as exc:
        code, message = exc.code, exc.message
    except ApiError as exc:  # a bootstrap command refused by the journal's edge (e.g. journal_full)
        code, message = exc.code, exc.message
    except OSError as exc:
        code, message = "data_dir", f"{exc.strerror or exc}: {exc.filename or config.data_dir}"
    if venue is not None:
        close_quietly(venue)
    fail(str(code), message)


def close_quietly(venue: Venue) -> None:
    with contextlib.suppress(Exception):  # after a refused start the refusal is the message worth printing
        venue.close()


def banner(config: VenueConfig, base: str, tty: bool) -> str:
    """What the venue prints once it serves. Secrets only to a terminal: a redirected stdout ends up in logs,
    so there it names the 0600 files that hold them instead."""
    lines = [f"isomargin venue on {base}  (data: {config.data_dir})",
             f"  native API docs   {base}/docs   (OpenAPI: {base}/openapi.json)",
             f"  Binance USDⓈ-M    {base}/fapi/v1/exchangeInfo"]  # fmt: skip
    if config.coinm_symbols:
        lines.append(f"  Binance COIN-M    {base}/dapi/v1/exchangeInfo")
    if config.spot_pairs:
        lines.append(f"  Binance spot      {base}/api/v3/exchangeInfo   (isolated margin: {base}/sapi/v1/margin/…)")
    lines.append(f"  options           {base}/api/v1/options   (Binance options: {base}/eapi/v1/exchangeInfo)")
    creds_path = config.data_dir / "demo-credentials.json"
    if config.demo_account and creds_path.exists():
        c = json.loads(creds_path.read_text())
        if tty:
            lines += [f"  demo account {c['account']}  apiKey {c['apiKey']}",
                      f"                  secret {c['secret']}",
                      f"  dashboard         {base}/dashboard#key={c['apiKey']}&secret={c['secret']}"]  # fmt: skip
        else:
            lines += [f"  demo account {c['account']}  apiKey {c['apiKey']}  (secret in {creds_path}, mode 0600)",
                      f"  dashboard         {base}/dashboard#key=<apiKey>&secret=<secret>"]  # fmt: skip
    else:
        lines.append(f"  dashboard         {base}/dashboard")
    if config.admin_key:
        where = config.data_dir / "admin-key"
        lines.append(f"  operator key      sent as X-Admin-Key ({str(where) if where.exists() else 'as given'})")
    return "\n".join(lines)


def run_venue(
    config: VenueConfig, host: str, port: int, log_level: str, proxies: Sequence[str],
    after_data_dir: Callable[[], None] | None = None,
) -> None:  # fmt: skip
    """Serve until stopped; exit 2 if the start is refused, 3 if the venue fails while serving."""
    import uvicorn

    from isomargin.server.app import create_app, server_config

    check_port(port)
    networks = trusted_networks(proxies)
    sock = bind(host, port)
    try:
        prepare_data_dir(config.data_dir)
        if after_data_dir is not None:
            after_data_dir()
        venue = open_venue(config)
    except BaseException:
        sock.close()
        raise
    print(venue.core.recovery.report().describe(), flush=True)  # loud recovery: what the journal held and lost
    base = f"http://{host_port(host, port)}"
    server: dict[str, Any] = {}

    def ready(_: Venue) -> None:
        print(banner(config, base, sys.stdout.isatty()), flush=True)

    def halted(v: Venue) -> None:  # fail-stop: no acknowledgement after this; stop and let a restart recover
        err = v.halted_error()
        print(f"error: {err.code}: {v.failure}; stopping with exit code {EXIT_HALTED} (a restart recovers from "
              "the journal)", file=sys.stderr, flush=True)  # fmt: skip
        server["uvicorn"].should_exit = True

    app = create_app(config, on_ready=ready, venue=venue, on_halt=halted)
    server["uvicorn"] = uvicorn.Server(server_config(app, log_level, networks))
    try:
        server["uvicorn"].run(sockets=[sock])
    finally:
        sock.close()
        if not app.state.holder.get("closed"):  # uvicorn never ran the lifespan's shutdown
            close_quietly(venue)
    if venue.failure is not None:
        raise typer.Exit(EXIT_HALTED)
