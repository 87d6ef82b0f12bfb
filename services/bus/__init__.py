"""The event bus: the relay that publishes the log to Kafka, and the integration events' envelope."""
