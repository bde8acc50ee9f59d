"""Every event class the engine emits, by name: what the journal codec decodes records with. Kept apart from
`events` so the spot events (in their own module, built on `events`' base classes) join without a cycle."""

from __future__ import annotations

from isomargin.engine.events import COLD_EVENTS, HOT_EVENTS, Event
from isomargin.engine.options_events import OPTION_EVENTS
from isomargin.engine.spot_events import SPOT_EVENTS

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls for cls in (*HOT_EVENTS, *COLD_EVENTS, *SPOT_EVENTS, *OPTION_EVENTS)
}
