"""What every part of sharebus imports: settings, errors, headers, Kafka errors and reads,
health probes, logging. It imports nothing of the bus above it."""
