"""The embedded sandbox: a small, stateful CRR system served over mutual TLS.

Layers, imports flowing one way (checked by import-linter in CI and by a no-cycle test):

    web       the HTTP server (aiohttp), TLS identity, connection guard, contract-driven
              routing and validation, error bodies -- the only layer that knows aiohttp
    control   the Market Sim operator's plane (/simctl/v1): plain operations on the state
    services  one thin module per CRR service: read the request, call the domain, shape the reply
    domain    the CRR rules on plain values: markets, windows, clock, plan, portfolios,
              holdings, credit, clearing, load, load migration, TOR, messages, market data
    store     SQLite: the explicit table list with its schema version, the edit locks

Leaves any layer may use: ``errors`` (CRRError), ``timefmt``, ``jsoncodec``. ``launch`` starts
a sandbox process from the outside (tests, runners) and imports none of the layers.
See docs/architecture.md.
"""
