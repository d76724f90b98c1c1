"""Usage records: every request to a provider, kept in SQLite for `llmos usage`."""
