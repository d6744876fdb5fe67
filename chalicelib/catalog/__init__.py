"""Items, their stock and purchase batches (costs)."""
