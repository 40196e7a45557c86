"""A bare pygls server, started the way hf-lsp is, as the start-up yardstick."""

from pygls.lsp.server import LanguageServer

if __name__ == "__main__":
    LanguageServer("bare", "0").start_io()
