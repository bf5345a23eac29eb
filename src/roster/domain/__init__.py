"""Pure identity rules: operations, people, merge, limits, errors. No I/O here."""
