"""One module per CRR service; each registers its handlers with ``harness.sandbox.registry``."""
