"""The adapters: Starlette app, GraphQL, SPARQL protocol, linked-data pages, docs export and the CLI."""
