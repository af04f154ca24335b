"""The sandbox's HTTP layer, the only one that knows aiohttp: the server and its TLS identity,
the connection guard, routing built from the loaded contract, request validation, error bodies.
It turns each call into a ``services.request.SandboxRequest`` (or an ``OperatorCall`` for the
control plane) and the answer into a response."""
