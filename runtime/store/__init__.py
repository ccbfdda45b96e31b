"""The content-addressed object store (SQLite) and names with history."""
