"""A publisher for websocket tests: what a sink publishes is held until the test delivers it
through the (in-memory) channel layer from its own event loop."""

from channels.layers import get_channel_layer


class LayerPublisher:
    """Publishes through the (in-memory) channel layer from the test's event loop."""

    def __init__(self):
        self.sent: list[tuple[str, dict]] = []

    def send(self, group, message):
        self.sent.append((group, message))

    def drain(self, timeout=5.0):
        return True

    async def deliver(self):
        layer = get_channel_layer()
        for group, message in self.sent:
            await layer.group_send(group, message)
        self.sent.clear()
