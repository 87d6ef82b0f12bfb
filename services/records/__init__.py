"""The printed record of works items: gathered from the log, rendered to PDF, signed."""
