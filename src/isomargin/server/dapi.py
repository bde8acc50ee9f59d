"""Binance COIN-M futures compatible API under /dapi/v1 and /dapi/v2, enough for unmodified ccxt
(binancecoinm). Importing this module registers every endpoint on `router`.
"""

from isomargin.server import dapi_account, dapi_market
from isomargin.server.dapi_base import router

__all__ = ["dapi_account", "dapi_market", "router"]
