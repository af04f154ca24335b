"""The CRR rules of the sandbox, on plain values: connections, names, records and instants in,
values or a ``CRRError`` out. No request objects and no aiohttp, so every rule can be used and
tested without a server. Below it is only the store (and the package's leaf modules)."""
