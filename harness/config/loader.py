"""Build a ``CrrsimConfig`` from layers, highest first:

1. overrides (command-line flags; ``None`` values mean "flag not given")
2. environment: ``CRRSIM_<FIELD>`` (CRRSIM_TARGET, CRRSIM_PARTICIPANT, CRRSIM_CERT, CRRSIM_KEY,
   CRRSIM_PFX, CRRSIM_CA, CRRSIM_SPECS, CRRSIM_TIMEOUT, CRRSIM_RETRIES, CRRSIM_REPORTS_DIR,
   CRRSIM_DEV_IDENTITY, CRRSIM_SANDBOX_HOST, CRRSIM_SANDBOX_PORT, CRRSIM_SANDBOX_PKI,
   CRRSIM_SANDBOX_DB)
3. a YAML file: ``file`` (``--config``), else CRRSIM_CONFIG, else ``./crrsim.yaml`` if present
4. defaults (the dataclass)

The client identity (cert, key, pfx, dev_identity) is one unit: the highest layer that sets
any of them supplies all of them, so a ``--pfx`` flag never gets mixed with a key file named
in crrsim.yaml. Relative paths in a file are relative to that file; elsewhere to the cwd.

Secrets never come from files or flags: a file with any key naming a password/passphrase/secret
is refused, and pfx/key passwords are read only from CRRSIM_PFX_PASSWORD / CRRSIM_KEY_PASSWORD
(or a prompt, see ``CrrsimConfig.client_identity``). Unknown keys are errors, not ignored:
a misspelt ``taget:`` silently running against the default target is the worst outcome.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from harness.client.targets import resolve_target
from harness.config.model import ConfigError, CrrsimConfig
from harness.pki.facts import KEY_PASSWORD_ENV, PFX_PASSWORD_ENV

DEFAULT_FILE = "crrsim.yaml"
ENV_PREFIX = "CRRSIM_"
SECRET_ENV = {"pfx_password": PFX_PASSWORD_ENV, "key_password": KEY_PASSWORD_ENV}
IDENTITY_GROUP = ("cert", "key", "pfx", "dev_identity")
_SECRET_KEY = re.compile(r"pass(word|phrase)?|secret|pwd", re.IGNORECASE)
_INTERNAL = {"sources", *SECRET_ENV}

_FIELDS = {f.name: f for f in fields(CrrsimConfig) if f.name not in _INTERNAL}
_DEFAULTS = CrrsimConfig()


def _kind(name: str) -> type:
    """The value type of a field, read from its default (str | None fields default to None)."""
    default = getattr(_DEFAULTS, name)
    if default is None:
        return Path if name in ("cert", "key", "pfx", "ca", "specs") else str
    return type(default) if not isinstance(default, Path) else Path


def _coerce(name: str, value: Any, where: str, base: Path) -> Any:
    kind = _kind(name)
    if value is None or value == "":
        return None
    try:
        if kind is Path:
            path = Path(os.path.expanduser(str(value)))
            return path if path.is_absolute() else base / path
        if kind is float:
            return float(value)
        if kind is int:
            if isinstance(value, float | bool):
                raise ValueError
            return int(value)
        if isinstance(value, Mapping | list):
            raise ValueError
        return str(value).strip()
    except (TypeError, ValueError):
        noun = {float: "a number", int: "a whole number"}.get(kind, "a single value")
        raise ConfigError(f"{name} from {where} must be {noun}, not {value!r}.") from None


def _refuse_secrets(data: Any, where: str, trail: str = "") -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = f"{trail}.{key}" if trail else str(key)
            if _SECRET_KEY.search(str(key)):
                raise ConfigError(
                    f"{where} contains {path!r}: passwords must not be stored in files. "
                    "Set CRRSIM_PFX_PASSWORD in the environment or let crrsim prompt for it."
                )
            _refuse_secrets(value, where, path)


def _flatten_file(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """File keys are field names (dash or underscore); ``sandbox:`` may be a nested section."""
    flat: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        if key == "sandbox" and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                flat[f"sandbox_{str(sub).replace('-', '_')}"] = sub_value
        else:
            flat[key] = value
    unknown = sorted(k for k in flat if k not in _FIELDS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {unknown[0]!r}. Known settings: {', '.join(sorted(_FIELDS))}."
        )
    return flat


def _find_file(file: str | os.PathLike[str] | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    explicit = file or env.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        path = Path(explicit)
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            raise ConfigError(f"The config file {path} does not exist.")
        return path
    default = cwd / DEFAULT_FILE
    return default if default.is_file() else None


def _file_layer(path: Path) -> dict[str, Any]:
    where = f"config file {path}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {where}: {exc.strerror}.") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping of settings (key: value).")
    _refuse_secrets(data, where)
    flat = _flatten_file(data, where)
    return {k: (_coerce(k, v, where, path.parent), f"file:{path}") for k, v in flat.items()}


def _env_layer(env: Mapping[str, str], cwd: Path) -> dict[str, Any]:
    layer = {}
    for name in _FIELDS:
        var = f"{ENV_PREFIX}{name.upper()}"
        if env.get(var, "") != "":
            layer[name] = (_coerce(name, env[var], var, cwd), f"env:{var}")
    return layer


def _override_layer(overrides: Mapping[str, Any] | None, cwd: Path) -> dict[str, Any]:
    layer = {}
    for name, value in (overrides or {}).items():
        if name in SECRET_ENV or _SECRET_KEY.search(name):
            raise ConfigError(f"{name} cannot be given as an option: use CRRSIM_PFX_PASSWORD or the prompt.")
        if name not in _FIELDS:
            raise ConfigError(f"Unknown setting {name!r}. Known settings: {', '.join(sorted(_FIELDS))}.")
        if value is not None:
            layer[name] = (_coerce(name, value, "the command line", cwd), "override")
    return layer


def _merge(layers: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Layers lowest first; the identity group is taken whole from the highest layer naming it."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer in layers:
        if any(k in layer for k in IDENTITY_GROUP):
            for k in IDENTITY_GROUP:
                values.pop(k, None)
                sources.pop(k, None)
        for name, (value, source) in layer.items():
            if value is not None:
                values[name] = value
                sources[name] = source
    return values, sources


def _validate(cfg: CrrsimConfig) -> None:
    def where(name: str) -> str:
        return cfg.source_of(name)

    try:
        resolve_target(cfg.target, cfg.sandbox_url)
    except ValueError as exc:
        raise ConfigError(f"{exc} (target from {where('target')})") from None
    if cfg.timeout <= 0:
        raise ConfigError(f"timeout must be more than 0 seconds, not {cfg.timeout} ({where('timeout')}).")
    if cfg.retries < 0:
        raise ConfigError(f"retries must be 0 or more, not {cfg.retries} ({where('retries')}).")
    if not 0 <= cfg.sandbox_port <= 65535:
        raise ConfigError(f"sandbox_port {cfg.sandbox_port} is not a TCP port ({where('sandbox_port')}).")
    if cfg.pfx is not None and (cfg.cert is not None or cfg.key is not None):
        raise ConfigError(f"Give either pfx or cert/key, not both ({where('pfx')}).")
    if cfg.key is not None and cfg.cert is None:
        raise ConfigError(f"A key was given without its certificate ({where('key')}).")


def load_config(
    file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Any] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
) -> CrrsimConfig:
    """Settings from flags > environment > file > defaults (see the module docstring)."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    path = _find_file(file, env, base)
    layers = [
        _file_layer(path) if path else {},
        _env_layer(env, base),
        _override_layer(overrides, base),
    ]
    values, sources = _merge(layers)
    for name in _FIELDS:  # relative default paths mean "under the working directory"
        default = getattr(_DEFAULTS, name)
        if name not in values and isinstance(default, Path) and not default.is_absolute():
            values[name] = base / default
    secrets: dict[str, Any] = {name: env[var] for name, var in SECRET_ENV.items() if env.get(var)}
    cfg = CrrsimConfig(**values, **secrets, sources=sources)
    _validate(cfg)
    return cfg
