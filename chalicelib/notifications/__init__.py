"""Emails to buyers, sent as handlers of domain events."""
