"""Checks every spot and option order takes before it is accepted, shared by both: a client order id's shape and
uniqueness among the account's open orders, a post-only order that would trade at once, a fill-or-kill order that
cannot fill completely. Pure reads: each raises `Reject` or returns."""

from __future__ import annotations

from typing import Final

from isomargin.engine.book import OrderBook
from isomargin.engine.codes import Code
from isomargin.engine.commands import OrderSide, TimeInForce
from isomargin.engine.errors import Reject

MAX_CLIENT_ID: Final = 36  # characters (Binance's limit)


def check_client_id(open_ids: dict[tuple[int, str], int], account: int, cid: object, what: str) -> None:
    """`cid` None, or 1 to 36 printable ASCII characters no open `what` order of the account already has."""
    if cid is None:
        return
    if type(cid) is not str or not (0 < len(cid) <= MAX_CLIENT_ID) or not cid.isascii() or not cid.isprintable():
        raise Reject(Code.BAD_CLIENT_ORDER_ID, f"client order id must be 1 to {MAX_CLIENT_ID} ASCII characters")
    if (account, cid) in open_ids:
        raise Reject(Code.DUPLICATE_CLIENT_ORDER_ID, f"an open {what} order already has client id {cid!r}")


def check_book(book: OrderBook, side: OrderSide, tif: TimeInForce, lots: int, ticks: int) -> None:
    """A post-only (GTX) order must not cross; a fill-or-kill must fill all `lots` now at `ticks` or better."""
    if tif is TimeInForce.GTX:
        best = book.best_ask() if side is OrderSide.BUY else book.best_bid()
        if best is not None and (best <= ticks if side is OrderSide.BUY else best >= ticks):
            raise Reject(Code.POST_ONLY_WOULD_CROSS, "the post-only order would trade at once")
    if tif is TimeInForce.FOK and book.fillable(int(side), ticks, lots) < lots:
        raise Reject(Code.FOK_UNFILLABLE, "the fill-or-kill order cannot fill completely now")
