"""The server-rendered web UI (People page, person page, settings)."""
