"""Downloading a file the user named (a ``tokenizer.json``), with the network settings.

A tokenizer's usual home, the Hub's ``resolve`` URLs, redirects to a CDN: redirects are followed,
and no token is sent, so none can follow them anywhere.
"""

from __future__ import annotations

import httpx

from hf_lsp.backends.http import USER_AGENT, Connection, tls
from hf_lsp.config.settings import Network

MAX_BYTES = 64 * 1024 * 1024  # a tokenizer.json is a few MB; anything this big is not one
TIMEOUT = 60.0


def download(url: str, path: str, network: Network) -> None:
    """GET ``url`` into the file ``path``; raise on an error status or a body over the cap."""
    connection = Connection.reaching(url, network)
    with httpx.Client(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(TIMEOUT, connect=network.connect_timeout),
        follow_redirects=True,
        proxy=network.proxy,
        verify=tls(connection),
        trust_env=True,
    ) as client, client.stream("GET", url) as response:
        if response.status_code != 200:
            raise OSError(f"{url} answered {response.status_code}")
        size = 0
        with open(path, "wb") as out:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise OSError(f"{url} sent more than {MAX_BYTES // 2**20} MB")
                out.write(chunk)
