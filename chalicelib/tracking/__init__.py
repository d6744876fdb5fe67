"""Buyers' tracking links and page."""
