"""The one config model: ``CrrsimConfig``, loaded by ``load_config``.

Precedence, highest first: flags (``overrides``) > environment (``CRRSIM_*``) > YAML file
(``--config`` / CRRSIM_CONFIG / ./crrsim.yaml) > defaults. Secrets (pfx and key passwords)
come only from CRRSIM_PFX_PASSWORD / CRRSIM_KEY_PASSWORD or a prompt; a file holding a
password is refused. Details: ``harness.config.loader`` and docs/configuration.md.
"""

from harness.config.loader import DEFAULT_FILE, load_config
from harness.config.model import ConfigError, CrrsimConfig, PasswordProvider

__all__ = ["DEFAULT_FILE", "ConfigError", "CrrsimConfig", "PasswordProvider", "load_config"]
