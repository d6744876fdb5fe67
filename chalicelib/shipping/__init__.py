"""Parcels and packing slips."""
