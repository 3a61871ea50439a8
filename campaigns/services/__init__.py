"""Writes to campaigns data: keyword-only, atomic, validating functions named `<entity>_<verb>`."""
