"""The textbook venue: one flat maintenance rate on entry value, so long LP = EP·(1 − 1/L + MMR).

It reproduces the seeds' arithmetic (10× long at 65,000, 0.5 % → 58,825) and is the default for tests
and examples that should not depend on any real venue's tables.
"""

from decimal import Decimal

from isomargin.margin import MMBasis, TierTable
from isomargin.venues.profile import SymbolSpec, VenueProfile

RATE = "0.005"
_TICKS = {"BTCUSDT": ("0.1", "0.001"), "ETHUSDT": ("0.01", "0.001"), "SOLUSDT": ("0.01", "0.01")}

PROFILE = VenueProfile(
    name="simple",
    title="Simple flat-rate venue",
    docs="shared/seeds: liquidation_price = entry × (1 − 1/leverage + maintenance_rate)",
    mm_basis=MMBasis.ENTRY,
    taker_fee=Decimal("0.0005"),
    maker_fee=Decimal("0.0002"),
    symbols={
        name: SymbolSpec(
            symbol=name,
            venue_symbol=name,
            table=TierTable.flat(RATE, "125"),
            tick_size=Decimal(tick),
            step_size=Decimal(step),
            min_notional=Decimal(5),
            liquidation_fee_rate=Decimal("0.005"),
            source="flat illustrative rate, not a real venue",
        )
        for name, (tick, step) in _TICKS.items()
    },
    formula="long LP = EP·(1 − 1/L + MMR); short LP = EP·(1 + 1/L − MMR)",
)
