"""SiteLedger's domain: event-sourced aggregates, hold-point templates and their rules (no I/O)."""
