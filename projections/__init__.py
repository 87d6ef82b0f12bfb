"""Read models built from the event log: projectors (pure) and the drivers that feed them."""
