"""Notional, PnL, ROE, break-even and number parsing for linear and inverse contracts."""

from decimal import Decimal as D
from decimal import getcontext, localcontext

import pytest

from isomargin.margin import (
    ContractKind,
    MarginError,
    Side,
    TierTable,
    break_even_price,
    initial_margin,
    liquidation_price_isolated,
    notional,
    roe,
    unrealized_pnl,
)
from isomargin.margin.numbers import D as parse

INV = ContractKind.INVERSE


def test_linear_and_inverse_notional_and_pnl() -> None:
    assert notional(D("0.5"), D(60000)) == D(30000)
    assert initial_margin(D(30000), D(20)) == D(1500)
    assert unrealized_pnl(Side.LONG, D(2), D(100), D(110)) == D(20)
    assert unrealized_pnl(Side.SHORT, D(2), D(100), D(110)) == D(-20)
    # Inverse: 10,000 USD face long from 40,000 to 50,000 earns 10,000 × (1/40,000 − 1/50,000) = 0.05 BTC.
    assert notional(D(10000), D(40000), INV) == D("0.25")
    assert unrealized_pnl(Side.LONG, D(10000), D(40000), D(50000), INV) == D("0.05")


def test_roe_is_pnl_over_initial_margin() -> None:
    # 10× long 1 BTC at 65,000 (IM 6,500) marked at 66,300: PnL 1,300 → ROE 20 %.
    pnl = unrealized_pnl(Side.LONG, D(1), D(65000), D(66300))
    assert roe(pnl, initial_margin(D(65000), D(10))) == D("0.2")


def test_break_even_covers_both_fees() -> None:
    # Long at 100 with 0.05 % both ways: P·0.9995 = 100·1.0005 → P = 100.10005…; selling there nets zero.
    be = break_even_price(Side.LONG, D(100), D("0.0005"), D("0.0005"))
    assert abs(be * (1 - D("0.0005")) - D("100.05")) < D("1e-25")
    short = break_even_price(Side.SHORT, D(100), D("0.0005"), D("0.0005"))
    assert short < 100
    inv_long = break_even_price(Side.LONG, D(40000), D("0.0005"), D("0.0005"), INV)
    # Coin PnL at break-even equals both fees in coin: q/E − q/P = q·fo/E + q·fc/P.
    q = D(10000)
    assert abs((q / 40000 - q / inv_long) - (q * D("0.0005") / 40000 + q * D("0.0005") / inv_long)) < D("1e-25")


@pytest.mark.parametrize("bad", [1.5, float("nan"), True])
def test_floats_and_bools_are_refused(bad: object) -> None:
    with pytest.raises(MarginError) as exc:
        parse(bad)
    assert exc.value.code == "not_exact"


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "", None])
def test_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises(MarginError) as exc:
        parse(bad)
    assert exc.value.code == "bad_number"


def test_negative_and_zero_inputs_are_refused() -> None:
    with pytest.raises(MarginError, match="size must not be negative"):
        notional(D(-1), D(100))
    with pytest.raises(MarginError, match="price must be greater than zero"):
        notional(D(1), D(0))
    with pytest.raises(MarginError, match="leverage must be greater than zero"):
        initial_margin(D(100), D(0))


def test_results_do_not_depend_on_the_callers_decimal_context() -> None:
    table = TierTable.flat("0.005", "100")
    expected = liquidation_price_isolated(Side.LONG, "1", "65000", "6500", table)
    with localcontext() as ctx:
        ctx.prec = 5
        assert getcontext().prec == 5
        assert liquidation_price_isolated(Side.LONG, "1", "65000", "6500", table) == expected


def test_side_parsing() -> None:
    assert Side.parse("Long") is Side.LONG and Side.parse("sell") is Side.SHORT
    with pytest.raises(MarginError) as exc:
        Side.parse("up")
    assert exc.value.code == "bad_side"
