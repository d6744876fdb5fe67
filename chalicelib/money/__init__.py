"""Payments, buyers' credit and profit."""
