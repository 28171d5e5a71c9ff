"""The project's own package shared by every duban service: envelope, store, relay, consumer, web."""
