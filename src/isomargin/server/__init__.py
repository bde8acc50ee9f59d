"""The venue server: the engine behind a journal, a native API (/api/v1), a Binance USDⓈ-M compatible API
(/fapi), WebSocket streams, operator endpoints, the demo market and a static dashboard.

    app = create_app(VenueConfig(data_dir=Path("data"), admin_key="…"))   # then run it with uvicorn
"""

from isomargin.server.app import create_app
from isomargin.server.config import VenueConfig

__all__ = ["VenueConfig", "create_app"]
