"""Scripts that make things the repository keeps, run from its root (`python -m tools.<name>`):
`screenshots` (`make screenshots`) draws the web UI's pages into docs/images/."""
