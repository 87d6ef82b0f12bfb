"""The HTTP API, the composition root, the command line: everything that does I/O."""
