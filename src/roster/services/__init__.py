"""Use cases: apply operations, look people up, manage workspaces, keep the store tidy."""
