"""`crrsim fuzz`: property-based conformance testing of every CRR operation with schemathesis.

``settings`` (what a run needs, from the one config), ``safety`` (which operations may run
where), ``checks`` (CAISO's conventions as schemathesis checks and hooks), ``runner`` (the
engine's event stream into one ``RunReport``).
"""
