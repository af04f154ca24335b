"""The embedded sandbox: a small, stateful CRR system served over mutual TLS.

Layout: ``server``/``tls``/``identity`` accept and authenticate calls, ``validation``
checks them against the loaded contract, ``registry`` maps operationIds to the handlers in
``services/`` (one module per CRR service), ``store`` persists state in SQLite, ``clock``
drives market windows, and ``control`` is the Market Sim operator's own API.
"""
