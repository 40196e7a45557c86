"""Generating text: the request and answer contract, the call policy, caches, limits, usage."""
