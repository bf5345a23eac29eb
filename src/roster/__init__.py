"""roster: a self-hosted people & events store that speaks Customer.io's and Segment's APIs."""

__version__ = "0.1.0"
