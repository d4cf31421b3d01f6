"""The request a service runs under (source address), without passing requests around."""

from contextvars import ContextVar

source_address: ContextVar[str | None] = ContextVar("source_address", default=None)
