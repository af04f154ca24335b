"""Step definitions, one module per domain; registered by ``scenarios.plugin``."""
