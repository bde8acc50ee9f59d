"""Binance USDⓈ-M futures compatible API under /fapi/v1, /fapi/v2, /fapi/v3, enough for unmodified ccxt
(binanceusdm; binance with defaultType swap). Importing this module registers every endpoint on `router`.
"""

from isomargin.server import fapi_account, fapi_extra, fapi_market
from isomargin.server.fapi_base import router

__all__ = ["fapi_account", "fapi_extra", "fapi_market", "router"]
