"""Photo evidence: checked with Pillow, kept byte-for-byte under its SHA-256, derivatives without location."""
