"""Code actions that write code: the catalog, their prompts, the service, the answers' cleanup."""
