"""The wire protocols: parse requests into domain operations, call services, render answers."""
