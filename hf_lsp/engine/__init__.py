"""The completion engine: pure Python, no pygls, lsprotocol or httpx."""
