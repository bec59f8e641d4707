"""GraphQL at /graphql: the schema over graph/'s question functions, and the HTTP adapter that serves it.

What each module owns:

    types.py     the request Context, the enums, Citation, and the field shapes many types share
    nodes.py     the Node interface, Statement, SearchHit, and `node_of` (an IRI as its own type)
    facts.py     the graph's facts in themselves: rules, advice, releases, outside records
    tables.py    the article's tables: guest and host support, storage formats, licensing (downgrade) rights
    products.py  products and their architecture (components, layers, I/O paths, features), comparisons
                 and outside guest lists
    verdicts.py  the answers of checkGuest / checkHost
    query.py     the root Query, the schema, and its SDL (server/schema.graphql)
    errors.py    the errors a client sees: codes, messages in English and Japanese, masking
    limits.py    request limits: tokens, depth, aliases
    execution.py a request prepared once per text (parse, limits, validation), then executed
    plan.py      the plan executor, graphql-core's answers faster (tests/test_graphql_plan.py)
    cache.py     whole answers per snapshot
    view.py      HTTP: reading the request, its limits, the response; the routes
    ide.py       the GraphiQL page

The schema modules import in one direction (types < nodes < facts < tables < products < verdicts < query);
`node_of` builds a type of a later module through the registry of server.graphql.nodes, so no module
imports one that imports it. The HTTP side: errors < limits < plan < execution < cache, ide < view.

What the package may import: graph/* (question functions, model, snapshot, layout) and the shared server
modules (server.ops: endpoint, logs, metrics, state, config); never server.sparql*, server.web or another
adapter's internals.
"""
