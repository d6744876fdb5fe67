"""Reports over orders."""
