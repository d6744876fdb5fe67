"""The platform: storage, the store, config, errors, clock, the bus, payloads, schemas; it imports no domain package."""
