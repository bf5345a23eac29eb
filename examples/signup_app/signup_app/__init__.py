"""A tiny app that tells Customer.io and Segment about its users."""
