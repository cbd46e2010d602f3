"""Client middleware: the types and the onion that chains them around the request.

``middlewares=(m1, m2)`` runs m1's code before the request, then m2's, then the request,
then m2's code after it, then m1's: each middleware gets the next one as its handler.
The chain is built for every redirect hop, so middlewares see (and can change) each
request the client sends, retries included. A middleware that makes requests with
``request.session`` must pass ``middlewares=()`` (or check the URL), or it will run
itself again, without end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Awaitable, Callable, Sequence

if TYPE_CHECKING:
    from .request import ClientRequest
    from .response import ClientResponse

__all__ = ("ClientHandlerType", "ClientMiddlewareType", "build_client_middlewares")

ClientHandlerType = Callable[["ClientRequest"], Awaitable["ClientResponse"]]
ClientMiddlewareType = Callable[["ClientRequest", ClientHandlerType], Awaitable["ClientResponse"]]


def build_client_middlewares(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """Wrap ``handler`` so that ``middlewares[0]`` runs first (outermost)."""
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: ClientMiddlewareType, handler: ClientHandlerType) -> ClientHandlerType:
    # Positional call: a middleware may name its parameters as it likes.
    async def call(request: "ClientRequest") -> "ClientResponse":
        return await middleware(request, handler)

    return call
