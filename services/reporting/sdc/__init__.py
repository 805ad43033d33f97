"""Statistical disclosure control (SDC) engine: pure functions, no I/O.

The public surface is re-exported by ``services.reporting.disclosure``; import from there.
"""
