"""Sellers' accounts: sign-up, login, sessions, passwords, the shop profile."""
