"""What roster's tests and its benchmark (`make bench`) share: a real `roster serve` in a
subprocess (`roster.testing.server`) and the identity checks a stored workspace must pass, in SQL
(`roster.testing.integrity`). Nothing in roster's product code imports this package."""
