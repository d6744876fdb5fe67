"""Pure rules, no I/O: money allocation, the order state machine, carriers."""
