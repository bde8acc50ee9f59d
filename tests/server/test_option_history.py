"""The option read models come back identical after a restart (rebuilt from the journal's events), and the account
stream messages of option events go to the right accounts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from isomargin.engine import OrderSide
from isomargin.engine.commands import AdjustOptionMargin, Deposit, ListOption, PlaceOptionOrder, SetOptionVol
from isomargin.engine.events import Event
from isomargin.server.config import VenueConfig
from isomargin.server.option_history import OptionHistory, stream_messages
from isomargin.server.venue import SetMarkPrice, Venue

D = Decimal
CALL = "BTC-USD-301225-100000-C"


def test_histories_survive_a_restart(tmp_path: Path) -> None:
    config = VenueConfig(data_dir=tmp_path / "data", market_maker=False, feed=False, interest_schedule=False)
    venue = Venue(config)
    try:
        a, b = venue.create_account_sync(), venue.create_account_sync()
        for acct in (a, b):
            venue.call(Deposit(acct, "BTC", D(10)))
        venue.call(ListOption(CALL))
        venue.call(SetMarkPrice("BTC-USD", D(95000), D(95000)))
        venue.call(PlaceOptionOrder(a, CALL, OrderSide.SELL, D(10), D("0.05")))
        venue.call(PlaceOptionOrder(b, CALL, OrderSide.BUY, D(10), D("0.05")))
        venue.call(AdjustOptionMargin(a, CALL, D("0.01")))
        venue.call(SetOptionVol(CALL, D("0.05")))  # about 1,900 USD at 4 years: below the 0.05 sold
        before = venue.option_history
        # the seller's fill as maker: 10 contracts × 0.01 BTC at 0.05 = 0.005 BTC premium; fee min(0.0002 × 0.01,
        # 7 % × 0.05 × 0.01) × 10 = 0.00002
        assert [(f["side"], f["premium"], f["fee"]) for f in before.fills[a]] == [("SELL", "0.005", "0.00002")]
        assert [m["amount"] for m in before.margin_moves[a]] == ["0.01"]
        assert before.iv[CALL][0] == D("0.05")
    finally:
        venue.close()
    again = Venue(config)
    try:
        after = again.option_history
        assert list(after.orders.values()) == list(before.orders.values())
        assert after.fills == before.fills and after.margin_moves == before.margin_moves
        assert after.iv == before.iv and after.alerts == before.alerts
    finally:
        again.close()


def test_stream_messages_route_by_account(tmp_path: Path) -> None:
    config = VenueConfig(data_dir=tmp_path / "data", market_maker=False, feed=False, interest_schedule=False)
    venue = Venue(config)
    try:
        a, b = venue.create_account_sync(), venue.create_account_sync()
        for acct in (a, b):
            venue.call(Deposit(acct, "BTC", D(10)))
        venue.call(ListOption(CALL))
        venue.call(SetMarkPrice("BTC-USD", D(95000), D(95000)))
        venue.call(PlaceOptionOrder(a, CALL, OrderSide.SELL, D(1), D("0.05")))
        events: list[Event] = venue.call(PlaceOptionOrder(b, CALL, OrderSide.BUY, D(1), D("0.05")))
    finally:
        venue.close()
    topics = {f"account:{a}"}
    out = [m for ev in events for m in stream_messages(ev, topics)]
    names = [m["e"] for _, m in out]
    assert {t for t, _ in out} == topics  # nothing for b, whom nobody reads
    assert "OPTION_TRADE" in names and "OPTION_ORDER_UPDATE" in names and "OPTION_POSITION_UPDATE" in names
    pos = next(m for _, m in out if m["e"] == "OPTION_POSITION_UPDATE")
    assert (pos["account"], pos["qty"]) == (a, "-1")
    h = OptionHistory()
    h.ingest(events)
    assert h.fills[b][0]["side"] == "BUY" and h.fills[a][0]["maker"] is True
