"""`isomargin serve` and `isomargin demo`: the venue server under uvicorn (wired into isomargin.cli by the
lead; runnable alone as `python -m isomargin.server.cli serve …`).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from isomargin.server.config import VenueConfig

app = typer.Typer(help="isomargin venue server.", no_args_is_help=True, add_completion=False)

HostOpt = Annotated[str, typer.Option("--host", help="Interface to bind.")]
PortOpt = Annotated[int, typer.Option("--port", help="TCP port.")]
DataOpt = Annotated[Path, typer.Option("--data", help="Directory for the journal, keys and state.")]
AdminOpt = Annotated[
    str | None,
    typer.Option("--admin-key", envvar="ISOMARGIN_ADMIN_KEY", help="Operator key for /api/v1/admin (X-Admin-Key)."),
]
JournalOpt = Annotated[str | None, typer.Option("--journal", help="Journal URL (default: SQLite in --data).")]
MMOpt = Annotated[bool, typer.Option("--market-maker/--no-market-maker", help="Built-in market maker.")]
FeedOpt = Annotated[bool, typer.Option("--feed/--no-feed", help="Moving demo prices and scheduled funding.")]
DemoAcctOpt = Annotated[
    bool, typer.Option("--demo-account", help="Create a funded demo account; key in DIR/demo-credentials.json.")
]
RateOpt = Annotated[int, typer.Option("--rate-limit", help="Request weight per minute per client IP (0: off).")]
FundingOpt = Annotated[float, typer.Option("--funding-interval", help="Seconds between demo funding (0: off).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the synthetic price paths.")]
LogOpt = Annotated[str, typer.Option("--log-level", help="uvicorn log level.")]


def _run(config: VenueConfig, host: str, port: int, log_level: str, banner: bool) -> None:
    import uvicorn

    from isomargin.server.app import create_app

    def ready(venue: object) -> None:
        if not banner:
            return
        base = f"http://{host}:{port}"
        lines = [f"isomargin venue on {base}  (data: {config.data_dir})",
                 f"  native API docs   {base}/docs   (OpenAPI: {base}/openapi.json)",
                 f"  Binance USDⓈ-M    {base}/fapi/v1/exchangeInfo"]  # fmt: skip
        creds = config.data_dir / "demo-credentials.json"
        if config.demo_account and creds.exists():
            c = json.loads(creds.read_text())
            lines += [f"  demo account {c['account']}  apiKey {c['apiKey']}",
                      f"                  secret {c['secret']}",
                      f"  dashboard         {base}/dashboard#key={c['apiKey']}&secret={c['secret']}"]  # fmt: skip
        else:
            lines.append(f"  dashboard         {base}/dashboard")
        if config.admin_key:
            lines.append(f"  operator key      in X-Admin-Key (see {config.data_dir / 'admin-key'} for demo runs)")
        print("\n".join(lines), flush=True)

    app_ = create_app(config, on_ready=ready)
    uvicorn.run(app_, host=host, port=port, log_level=log_level, access_log=False, ws="websockets-sansio")


@app.command()
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    data: DataOpt = Path("data"),
    admin_key: AdminOpt = None,
    journal: JournalOpt = None,
    market_maker: MMOpt = True,
    feed: FeedOpt = True,
    demo_account: DemoAcctOpt = False,
    rate_limit: RateOpt = 2400,
    funding_interval: FundingOpt = 60.0,
    seed: SeedOpt = 7,
    log_level: LogOpt = "warning",
) -> None:
    """Run the venue: engine + journal behind the native and Binance-compatible APIs."""
    config = VenueConfig(
        data_dir=data.expanduser().resolve(), admin_key=admin_key, journal=journal, market_maker=market_maker,
        feed=feed, demo_account=demo_account, rate_limit=rate_limit, funding_interval=funding_interval, seed=seed,
    )  # fmt: skip
    _run(config, host, port, log_level, banner=True)


@app.command()
def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    data: DataOpt = Path("data/demo"),
    admin_key: AdminOpt = None,
    seed: SeedOpt = 7,
    log_level: LogOpt = "warning",
) -> None:
    """Demo venue: moving markets, a market maker, a funded demo account (keys printed) and the dashboard."""
    key = admin_key or os.environ.get("ISOMARGIN_ADMIN_KEY") or secrets.token_hex(16)
    config = VenueConfig(data_dir=data.expanduser().resolve(), admin_key=key, demo_account=True, seed=seed)
    if admin_key is None and "ISOMARGIN_ADMIN_KEY" not in os.environ:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        path = config.data_dir / "admin-key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
    _run(config, host, port, log_level, banner=True)


if __name__ == "__main__":
    app()
