"""The FastAPI application: lifespan (venue, demo market), error rendering for both APIs, weighted rate
limits, the WebSocket streams and the static dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from importlib import resources
from typing import Any, Final

import uvicorn
from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isomargin.engine.errors import Reject
from isomargin.journal import JournalError
from isomargin.server import dapi, eapi, fapi, native, native_history, native_options, native_spot, sapi, streams
from isomargin.server.auth import RateLimiter, weight_of
from isomargin.server.config import VenueConfig
from isomargin.server.dapi_base import DAPI
from isomargin.server.errors import ApiError, from_reject
from isomargin.server.fapi_base import FAPI
from isomargin.server.futures_data import router as futures_data_router
from isomargin.server.market import DemoMarket
from isomargin.server.option_demo import OptionDemo
from isomargin.server.schedule import InterestSchedule
from isomargin.server.venue import Venue

DESCRIPTION = """Native API of the isomargin venue. Signed endpoints: header `X-MBX-APIKEY`, query `timestamp`
(ms, within `recvWindow` and at most 1 s ahead) and `signature` = hex HMAC-SHA256(secret, raw query string
without `signature` + raw body). Operator endpoints take `X-Admin-Key`. Errors: `{"code", "message"}`.
A Binance USDⓈ-M compatible API is served under `/fapi/v1|v2|v3`, a Binance COIN-M compatible one under
`/dapi/v1|v2`, Binance spot under `/api/v3`, Binance isolated margin under `/sapi/v1`, Binance options under
`/eapi/v1`, and streams under `/ws`."""
HALT_POLL_S: Final = 0.05  # how soon the CLI learns of a failure (the 503s start at once, in HaltGuard)
SHUTDOWN_GRACE_S: Final = 10  # in-flight requests get this long to finish when the server stops
HOT_ROUTES: Final = (("POST", "v1/order"), ("GET", "v1/order"), ("DELETE", "v1/order"), ("DELETE", "v1/allOpenOrders"))
HOT_FAPI: Final = frozenset((m, f"/{api}/{p}") for api in ("fapi", "dapi") for m, p in HOT_ROUTES)  # and /dapi
# answered in Binance's {code, msg}
BINANCE_PREFIXES: Final = ("/fapi", "/futures/data", "/dapi", "/api/v3", "/sapi", "/eapi")


def _error(path: str, err: ApiError) -> JSONResponse:
    body = err.fapi() if path.startswith(BINANCE_PREFIXES) else err.native()
    return JSONResponse(body, status_code=err.status, headers=err.headers)


class RateLimit:
    """Pure ASGI middleware: charge each API request's weight; 429/418 with Retry-After when over."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith((*BINANCE_PREFIXES, "/api/")):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        try:
            used = self.limiter.charge(client, weight_of(path))
        except ApiError as err:
            await _error(path, err)(scope, receive, send)
            return

        async def send_with_weight(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-mbx-used-weight-1m", str(used).encode())]
            await send(message)

        await self.app(scope, receive, send_with_weight)


class HaltGuard:
    """Pure ASGI middleware: once the engine (or the journal) failed, every API request and /health gets 503
    `engine_failed` — reads too, since the state in memory may be half changed."""

    def __init__(self, app: ASGIApp, holder: dict[str, Any]) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        venue: Venue | None = self.holder.get("venue")
        path = scope.get("path", "")
        guarded = path.startswith((*BINANCE_PREFIXES, "/api/")) or path == "/health"
        if scope["type"] == "http" and guarded and venue is not None and venue.failure is not None:
            await _error(path, venue.halted_error())(scope, receive, send)
            return
        await self.app(scope, receive, send)


def error_response(request: Request, exc: Exception) -> Response:
    """The answer to any exception out of a request, in the shape of the API the path belongs to (every
    exception handler of the app, and the hot routes, answer through this)."""
    path = request.url.path
    if isinstance(exc, ApiError):
        return _error(path, exc)
    if isinstance(exc, RequestValidationError):
        errs = exc.errors()
        where = ".".join(str(x) for x in errs[0].get("loc", ())) if errs else "request"
        text = f"{where}: {errs[0].get('msg', 'invalid')}" if errs else "invalid request"
        return _error(path, ApiError(400, "bad_request", text, -1102))
    if isinstance(exc, StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(path, ApiError(exc.status_code, code, str(exc.detail), -1000))
    if isinstance(exc, Reject):  # a query on what does not exist
        return _error(path, from_reject(exc.code.value, exc.message))
    if isinstance(exc, JournalError):
        venue: Venue = request.app.state.venue
        if venue.failure is not None:
            return _error(path, venue.halted_error())
        return _error(path, ApiError(503, exc.code.value, exc.message, -1001))
    return _error(path, ApiError(500, "internal", f"internal error ({type(exc).__name__})", -1000))  # no traceback


async def _handle(request: Request, exc: Exception) -> Response:
    return error_response(request, exc)


class HotRoutes:
    """Pure ASGI middleware, the innermost of ours: the order paths of the Binance APIs (/fapi and /dapi) go
    straight to the handler their route would reach (`Api.serve`: the same authentication, parameter grammar and
    order handling), skipping FastAPI's linear route matching and endpoint plumbing, which cost more CPU per
    order than the order itself; errors are answered by `error_response`, like the app's handlers. Every other
    path (and the OpenAPI description of these) stays with FastAPI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in HOT_FAPI:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        api = DAPI if scope["path"].startswith("/dapi/") else FAPI
        version, _, path = scope["path"][len(api.prefix) + 2 :].partition("/")
        try:
            response = await api.serve(request, version, path)
        except Exception as exc:
            response = error_response(request, exc)
        await response(scope, receive, send)


def server_config(app: ASGIApp, log_level: str = "warning", trusted_proxies: Sequence[str] = ()) -> uvicorn.Config:
    """uvicorn's settings for the venue. X-Forwarded-For is believed only from `trusted_proxies` (CIDRs); with
    none, uvicorn's proxy middleware is off, so the client address (what rate limits key on) is the TCP peer.
    uvicorn would otherwise trust 127.0.0.1, and anyone on loopback could pick the address they are charged to.
    """
    return uvicorn.Config(
        app, log_level=log_level, access_log=False, ws="websockets-sansio", proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None, timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )  # fmt: skip


async def watch_halt(venue: Venue, on_halt: Callable[[Venue], None]) -> None:
    """Call `on_halt` once, when the venue first reports a failure (engine fault or journal failure)."""
    while venue.failure is None:
        await asyncio.sleep(HALT_POLL_S)
    on_halt(venue)


def create_app(
    config: VenueConfig, on_ready: Callable[[Venue], None] | None = None, venue: Venue | None = None,
    on_halt: Callable[[Venue], None] | None = None,
) -> FastAPI:  # fmt: skip
    """The venue's ASGI app. Without `venue` the lifespan opens one from `config` (tests); with one (the CLI,
    which opens it before serving so a refused start prints one line) it serves that. Either way the
    lifespan's shutdown closes it. `on_halt` runs once if the venue fails while serving (the CLI exits)."""
    holder: dict[str, Any] = {}
    given = venue

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        if given is None:
            v = Venue(config)
            await loop.run_in_executor(None, v.bootstrap)
        else:
            v = given
        v.loop = loop
        app.state.venue = v
        demo = DemoMarket(v)
        demo.start()
        options_demo = OptionDemo(v)
        if config.option_chain:
            await loop.run_in_executor(None, options_demo.list_chain)
            if config.feed:
                options_demo.start(config.feed_interval)
        interest = InterestSchedule(v)
        if config.interest_schedule:
            interest.start()
        holder["venue"] = v
        watcher = asyncio.create_task(watch_halt(v, on_halt)) if on_halt is not None else None
        if on_ready is not None:
            on_ready(v)
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            await demo.stop()
            await options_demo.stop()
            await interest.stop()
            v.close()
            holder["closed"] = True

    app = FastAPI(title="isomargin venue", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.add_middleware(HotRoutes)  # innermost of ours: inside the rate limit and the halt guard
    app.add_middleware(RateLimit, limiter=RateLimiter(config.rate_limit, config.ban_after, config.ban_seconds))
    app.add_middleware(HaltGuard, holder=holder)  # outermost: a stopped venue answers before anything else runs
    app.include_router(native.router)
    app.include_router(native_spot.router)
    app.include_router(native_options.router)
    app.include_router(fapi.router)
    app.include_router(futures_data_router)  # /futures/data: the linear markets' statistics
    app.include_router(dapi.router)
    app.include_router(sapi.router)  # /api/v3 (spot_api) and /sapi (sapi)
    app.include_router(eapi.router)  # /eapi/v1: Binance options (the binance family's USDT-settled options)
    app.include_router(native_history.assets)

    for exc_type in (ApiError, RequestValidationError, StarletteHTTPException, Reject, JournalError, Exception):
        app.add_exception_handler(exc_type, _handle)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/dashboard")

    @app.get("/health", include_in_schema=False)
    async def bare_health() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard() -> Response:
        html = resources.files("isomargin.server").joinpath("static/dashboard.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:  # native topics (comma-separated) and Binance stream names
        names = [t for t in (websocket.query_params.get("streams") or "").split(",") if t]
        await streams.serve(websocket, websocket.app.state.venue, names=names, binance=False, combined=False,
                            listen_key=websocket.query_params.get("listenKey"))  # fmt: skip

    @app.websocket("/ws/{rest:path}")
    async def ws_path(websocket: WebSocket, rest: str) -> None:  # /ws/<listenKey> (native) or /ws/<stream>
        names, key = streams.path_parts(rest, {})
        await streams.serve(websocket, websocket.app.state.venue, names=names, listen_key=key,
                            binance=bool(names), combined=False)  # fmt: skip

    async def binance_stream(websocket: WebSocket, rest: str, combined: bool) -> None:
        names, key = streams.path_parts(rest, dict(websocket.query_params))
        await streams.serve(websocket, websocket.app.state.venue, names=names, listen_key=key, binance=True,
                            combined=combined)  # fmt: skip

    for prefix in ("", "/public", "/market", "/private"):  # ccxt 4.5 splits Binance's /ws by category

        async def raw(websocket: WebSocket, rest: str = "") -> None:
            await binance_stream(websocket, rest, False)

        async def wrapped(websocket: WebSocket, rest: str = "") -> None:
            await binance_stream(websocket, rest, True)

        if prefix:
            app.add_api_websocket_route(f"{prefix}/ws", raw)
            app.add_api_websocket_route(f"{prefix}/ws/{{rest:path}}", raw)
        app.add_api_websocket_route(f"{prefix}/stream", wrapped)
        app.add_api_websocket_route(f"{prefix}/stream/{{rest:path}}", wrapped)

    app.state.holder = holder
    return app
