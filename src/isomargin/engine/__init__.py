"""The deterministic state machine: commands in, events out, no wall clock and no I/O."""
