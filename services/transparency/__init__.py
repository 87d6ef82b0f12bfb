"""The transparency log's server side: signing keys, checkpoints, the service the routes use, the witness."""
