"""Generating text: the request and answer contract, the call policy, caches, limits, usage.

- ``contract``: GenerationRequest, Generation, Chunk, Limits and the Backend protocol
- ``client``: GenerationClient: the one call policy (retries, 429s, loading, streaming)
- ``parameters``: sampling_parameters: the one builder of a request's parameters
- ``fim_templates``: fill-in-the-middle templates per model family, and their stop tokens
- ``cache``: the in-memory LRU cache, with sharing of identical calls in flight
- ``disk_cache``: the opt-in SQLite cache on disk
- ``rate_limits``: the limiter per backend and the server's backoff
- ``units``: whether a long generation wrote a whole unit of code
- ``usage``: tokens in and out, and their cost
"""

from __future__ import annotations

__all__ = [
    "contract",
    "client",
    "parameters",
    "fim_templates",
    "cache",
    "disk_cache",
    "rate_limits",
    "units",
    "usage",
]
