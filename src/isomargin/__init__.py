"""isomargin: an exchange-grade isolated-margin derivatives engine.

Exact (Decimal) margin math in `isomargin.margin`, venue profiles in `isomargin.venues`,
the deterministic engine in `isomargin.engine`, and the `isomargin` CLI.
"""

__version__ = "0.1.0"
