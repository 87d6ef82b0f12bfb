"""`siteledger-verify`: what an outsider runs to check SiteLedger's evidence without trusting its server.

It imports only the standard library and `cryptography` (an import-linter contract keeps the server's packages
out), so the station or a court can read all of it.
"""
