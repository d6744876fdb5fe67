"""Orders, order forms, CSV imports and exports."""
