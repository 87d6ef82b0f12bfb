"""The API's fixtures (a real SQLite store and the SeaweedFS S3 server) for the transparency tests."""

from tests.integration.api.conftest import api, client, container

__all__ = ["api", "client", "container"]
