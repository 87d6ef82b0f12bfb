"""People's pages, rendered on the server (Jinja2) and served by the API process: sign-in and the account."""
