"""What every adapter stands on, and none of them owns: configuration, logs, request ids, metrics, HTTP
limits, content negotiation, the snapshot holder, reloads and the worker supervisor.

May import graph/ and each other; never an adapter (server.graphql, server.sparql, server.web) nor the app or the
CLI above them (`lint-imports` keeps it so).
"""
