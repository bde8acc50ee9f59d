"""`isomargin serve` and `isomargin demo`: the venue server under uvicorn (wired into isomargin.cli by the
lead; runnable alone as `python -m isomargin.server.cli serve …`). Start-up binds the port before it touches
the data directory or prints anything; the pieces (port check, bind, banner, exit codes) are in `startup`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from isomargin.server.config import VenueConfig
from isomargin.server.startup import run_venue

app = typer.Typer(help="isomargin venue server.", no_args_is_help=True, add_completion=False)

HostOpt = Annotated[str, typer.Option("--host", help="Interface to bind.")]
PortOpt = Annotated[int, typer.Option("--port", help="TCP port (1-65535).")]
DataOpt = Annotated[Path, typer.Option("--data", help="Directory for the journal, keys and state.")]
AdminOpt = Annotated[
    str | None,
    typer.Option("--admin-key", envvar="ISOMARGIN_ADMIN_KEY", help="Operator key for /api/v1/admin (X-Admin-Key)."),
]
JournalOpt = Annotated[str | None, typer.Option("--journal", help="Journal URL (default: SQLite in --data).")]
MMOpt = Annotated[bool, typer.Option("--market-maker/--no-market-maker", help="Built-in market maker.")]
FeedOpt = Annotated[bool, typer.Option("--feed/--no-feed", help="Moving demo prices and scheduled funding.")]
NoiseOpt = Annotated[bool, typer.Option("--noise-traders/--no-noise-traders",
                                        help="Seeded noise traders (market orders) in the demo market.")]  # fmt: skip
DemoAcctOpt = Annotated[
    bool, typer.Option("--demo-account", help="Create a funded demo account; key in DIR/demo-credentials.json.")
]
RateOpt = Annotated[int, typer.Option("--rate-limit", help="Request weight per minute per client IP (0: off).")]
OptionsOpt = Annotated[bool, typer.Option("--option-chain/--no-option-chain",
                                          help="List a demo BTC-USD option chain marked from the feed.")]  # fmt: skip
FundingOpt = Annotated[float, typer.Option("--funding-interval", help="Seconds between demo funding (0: off).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the synthetic price paths.")]
LogOpt = Annotated[str, typer.Option("--log-level", help="uvicorn log level.")]
ProxyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--trusted-proxy",
        help="CIDR of a reverse proxy whose X-Forwarded-For is believed (repeatable; default: none, so the "
        "client address is always the TCP peer).",
    ),
]


@app.command()
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    data: DataOpt = Path("data"),
    admin_key: AdminOpt = None,
    journal: JournalOpt = None,
    market_maker: MMOpt = True,
    feed: FeedOpt = True,
    noise_traders: NoiseOpt = True,
    demo_account: DemoAcctOpt = False,
    rate_limit: RateOpt = 2400,
    funding_interval: FundingOpt = 60.0,
    seed: SeedOpt = 7,
    log_level: LogOpt = "warning",
    trusted_proxy: ProxyOpt = None,
    option_chain: OptionsOpt = True,
) -> None:
    """Run the venue: engine + journal behind the native and Binance-compatible APIs."""
    config = VenueConfig(
        data_dir=data.expanduser().resolve(), admin_key=admin_key, journal=journal, market_maker=market_maker,
        feed=feed, noise_traders=noise_traders, demo_account=demo_account, rate_limit=rate_limit,
        funding_interval=funding_interval, seed=seed, option_chain=option_chain,
    )  # fmt: skip
    run_venue(config, host, port, log_level, trusted_proxy or [])


@app.command()
def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    data: DataOpt = Path("data/demo"),
    admin_key: AdminOpt = None,
    seed: SeedOpt = 7,
    log_level: LogOpt = "warning",
    trusted_proxy: ProxyOpt = None,
) -> None:
    """Demo venue: moving markets, a market maker, a funded demo account and the dashboard (keys in the data
    directory's demo-credentials.json and admin-key, printed only to a terminal)."""
    key = admin_key or os.environ.get("ISOMARGIN_ADMIN_KEY") or secrets.token_hex(16)
    config = VenueConfig(data_dir=data.expanduser().resolve(), admin_key=key, demo_account=True, seed=seed,
                         option_chain=True)  # fmt: skip
    generated = admin_key is None and "ISOMARGIN_ADMIN_KEY" not in os.environ

    def write_admin_key() -> None:  # runs after the bind, so a refused start leaves no data directory behind
        path = config.data_dir / "admin-key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")

    run_venue(config, host, port, log_level, trusted_proxy or [], after_data_dir=write_admin_key if generated else None)


if __name__ == "__main__":
    app()
