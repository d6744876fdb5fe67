"""Buyers (customers) of a seller."""
