"""Bus layer: an outbox relay that publishes each service's log to its Redis stream,
and consumers that apply other services' events exactly once in effect."""

from shared.bus.consumer import EventConsumer, Handler
from shared.bus.feed import Feed, HttpFeed, StoreFeed
from shared.bus.relay import OutboxRelay
from shared.bus.wire import MalformedMessage, decode_entry

__all__ = ["EventConsumer", "Feed", "Handler", "HttpFeed", "MalformedMessage", "OutboxRelay", "StoreFeed", "decode_entry"]
