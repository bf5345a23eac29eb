"""roster in test suites: roster's own and its users'.

- `ephemeral`: a throw-away roster (temporary SQLite database, one workspace) in a thread; what
  `roster serve --ephemeral` and the pytest plugin run (docs/testing.md).
- `plugin`, `workspace`, `state`: the pytest plugin (the `pytest11` entry point), its `roster`
  fixture and the dataclasses it answers with.
- `server`, `integrity`: what roster's tests and its benchmark (`make bench`) share: a real
  `roster serve` in a subprocess and the identity checks a stored workspace must pass, in SQL.

Of roster's product code, only the command line imports this package (`serve --ephemeral`)."""
