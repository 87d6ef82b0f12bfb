"""The offline-first tablet client (issue 7): talks to the API over HTTP only, never imports the server."""
