"""Settings: the typed model, the layered configuration in force, the token, the generated docs."""
