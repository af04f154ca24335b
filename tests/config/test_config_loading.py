"""load_config: precedence, file rules, secrets, validation, and the identity it builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.client import ClientIdentity, CRRClient, IdentityError
from harness.config import ConfigError, CrrsimConfig, load_config
from harness.pki.issue import EC_P256, issue_client_cert, make_ca, write_cert_pem, write_pair, write_pfx


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(env={}, cwd=tmp_path)
    assert cfg.target == "sandbox" and cfg.timeout == 15.0 and cfg.retries == 3
    assert cfg.base_url() == "https://127.0.0.1:8443/crr"
    assert cfg.sandbox_pki == tmp_path / "certs/dev" and cfg.ca_path() == tmp_path / "certs/dev/ca.pem"
    assert cfg.source_of("target") == "default"


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    _write(tmp_path / "crrsim.yaml", "target: mapstage\nparticipant: WCAL\ntimeout: 5\nretries: 1\n")
    env = {"CRRSIM_PARTICIPANT": "NCAL", "CRRSIM_TIMEOUT": "7.5"}
    cfg = load_config(env=env, overrides={"timeout": 9, "participant": None}, cwd=tmp_path)
    assert (cfg.target, cfg.participant, cfg.timeout, cfg.retries) == ("mapstage", "NCAL", 9.0, 1)
    assert cfg.source_of("target") == f"file:{tmp_path / 'crrsim.yaml'}"
    assert cfg.source_of("participant") == "env:CRRSIM_PARTICIPANT"
    assert cfg.source_of("timeout") == "override"
    assert cfg.base_url() == "https://mapstage-api.caiso.com/crr" and cfg.ca_path() is None


def test_explicit_file_beats_the_default_file(tmp_path: Path) -> None:
    _write(tmp_path / "crrsim.yaml", "target: mapstage\n")
    other = _write(tmp_path / "prod.yaml", "target: production\n")
    assert load_config(other, env={}, cwd=tmp_path).target == "production"
    assert load_config(env={"CRRSIM_CONFIG": str(other)}, cwd=tmp_path).target == "production"
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml", env={}, cwd=tmp_path)


def test_file_paths_are_relative_to_the_file_and_sandbox_section(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    _write(conf / "c.yaml", "ca: ca.pem\nreports-dir: out\nsandbox:\n  port: 9443\n  pki: pki\n")
    cfg = load_config(conf / "c.yaml", env={"CRRSIM_SPECS": "specs"}, cwd=tmp_path)
    assert cfg.ca == conf / "ca.pem" and cfg.reports_dir == conf / "out" and cfg.sandbox_pki == conf / "pki"
    assert cfg.specs == tmp_path / "specs"
    assert cfg.base_url() == "https://127.0.0.1:9443/crr"


@pytest.mark.parametrize("text", ["pfx_password: hunter2\n", "sandbox:\n  passphrase: x\n", "Secret: x\n"])
def test_passwords_in_files_are_refused(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError, match="must not be stored in files") as err:
        load_config(path, env={}, cwd=tmp_path)
    assert "hunter2" not in str(err.value)


def test_passwords_as_flags_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CRRSIM_PFX_PASSWORD"):
        load_config(env={}, overrides={"pfx_password": "x"}, cwd=tmp_path)


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yaml", "taget: production\n")
    with pytest.raises(ConfigError, match="unknown setting 'taget'"):
        load_config(path, env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="'sandbox_colour'"):
        load_config(_write(tmp_path / "d.yaml", "sandbox:\n  colour: red\n"), env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="'nope'"):
        load_config(env={}, overrides={"nope": 1}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CRRSIM_TIMEOUT": "soon"}, "timeout from CRRSIM_TIMEOUT must be a number"),
        ({"CRRSIM_TIMEOUT": "0"}, "more than 0"),
        ({"CRRSIM_SANDBOX_PORT": "70000"}, "not a TCP port"),
        ({"CRRSIM_RETRIES": "1.5"}, "whole number"),
        ({"CRRSIM_TARGET": "staging"}, "Unknown target 'staging'.*CRRSIM_TARGET"),
        ({"CRRSIM_TARGET": "http://h/crr"}, "plain http"),
        ({"CRRSIM_KEY": "k.pem"}, "key was given without its certificate"),
        ({"CRRSIM_PFX": "a.pfx", "CRRSIM_CERT": "c.pem"}, "either pfx or cert/key"),
    ],
)
def test_bad_values_are_clear_errors(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env=env, cwd=tmp_path)


def test_bad_yaml_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path / "a.yaml", "target: [unclosed\n"), env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="mapping"):
        load_config(_write(tmp_path / "b.yaml", "- a\n- b\n"), env={}, cwd=tmp_path)
    assert load_config(_write(tmp_path / "c.yaml", ""), env={}, cwd=tmp_path).target == "sandbox"


def test_identity_settings_come_from_one_layer(tmp_path: Path) -> None:
    _write(tmp_path / "crrsim.yaml", "cert: c.pem\nkey: k.pem\n")
    cfg = load_config(env={"CRRSIM_PFX": "mine.pfx"}, cwd=tmp_path)
    assert cfg.pfx == tmp_path / "mine.pfx" and cfg.cert is None and cfg.key is None
    assert cfg.source_of("pfx") == "env:CRRSIM_PFX"


def test_secrets_are_kept_out_of_repr_and_dict(tmp_path: Path) -> None:
    cfg = load_config(env={"CRRSIM_PFX_PASSWORD": "s3cret-pw", "CRRSIM_PFX": "a.pfx"}, cwd=tmp_path)
    assert cfg.pfx_password == "s3cret-pw"
    assert "s3cret-pw" not in repr(cfg) and "s3cret-pw" not in str(cfg.as_dict())


# --- identities built from a config -------------------------------------------------------
@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cfg-pki")
    ca = make_ca(common_name="cfg CA", key_spec=EC_P256)
    leaf = issue_client_cert(ca=ca, name="ecal", sc_ids=("ECAL",), key_spec=EC_P256)
    cert, key = write_pair(d / "clients" / "ecal", leaf)
    return {
        "dir": d,
        "ca": write_cert_pem(d / "ca.pem", ca.cert),
        "cert": cert,
        "key": key,
        "pfx": write_pfx(d / "ecal.pfx", key=leaf.key, cert=leaf.cert, password="cfg-pw"),
    }


def test_pfx_password_from_env_or_provider(tmp_path: Path, issued: dict[str, Path]) -> None:
    env = {"CRRSIM_PFX": str(issued["pfx"]), "CRRSIM_TARGET": "mapstage"}
    with pytest.raises(ConfigError, match="CRRSIM_PFX_PASSWORD"):
        load_config(env=env, cwd=tmp_path).client_identity()
    assert load_config(env=env, cwd=tmp_path).client_identity(lambda: "cfg-pw").common_name == "ecal"
    with_env = load_config(env={**env, "CRRSIM_PFX_PASSWORD": "cfg-pw"}, cwd=tmp_path)
    assert with_env.client_identity().common_name == "ecal"
    with pytest.raises(IdentityError, match="(?i)password"):
        load_config(env={**env, "CRRSIM_PFX_PASSWORD": "wrong"}, cwd=tmp_path).client_identity()


def test_pem_identity_and_no_identity_for_real_targets(tmp_path: Path, issued: dict[str, Path]) -> None:
    env = {
        "CRRSIM_CERT": str(issued["cert"]),
        "CRRSIM_KEY": str(issued["key"]),
        "CRRSIM_TARGET": "production",
    }
    assert isinstance(load_config(env=env, cwd=tmp_path).client_identity(), ClientIdentity)
    assert load_config(env={"CRRSIM_TARGET": "production"}, cwd=tmp_path).client_identity() is None


def test_sandbox_uses_the_dev_pki_identity(tmp_path: Path, issued: dict[str, Path]) -> None:
    cfg = load_config(
        env={"CRRSIM_SANDBOX_PKI": str(issued["dir"]), "CRRSIM_PARTICIPANT": "ECAL"}, cwd=tmp_path
    )
    assert cfg.dev_identity_name() == "ecal" and cfg.client_identity().common_name == "ecal"
    assert cfg.ca_path() == issued["ca"]
    assert CrrsimConfig(participant="SCAL").dev_identity_name() == "ncal"
    with pytest.raises(ConfigError, match="crrsim certs"):
        CrrsimConfig(sandbox_pki=tmp_path, dev_identity="wcal").client_identity()
    with pytest.raises(ConfigError, match="No dev identity"):
        CrrsimConfig(participant="ZZZZ").dev_identity_name()


def test_client_from_config(tmp_path: Path, issued: dict[str, Path]) -> None:
    cfg = load_config(
        env={"CRRSIM_SANDBOX_PKI": str(issued["dir"]), "CRRSIM_TIMEOUT": "3", "CRRSIM_RETRIES": "1"},
        overrides={"sandbox_port": 9555},
        cwd=tmp_path,
    )
    with CRRClient.from_config(cfg) as client:
        assert client.base_url == "https://127.0.0.1:9555/crr" and client.retries == 1
        assert client.identity is not None and client.identity.common_name == "ecal"


def test_one_sandbox_db_default_and_the_target_name_runners_compare(tmp_path: Path) -> None:
    cfg = load_config(env={}, cwd=tmp_path)
    assert cfg.sandbox_db == tmp_path / "reports" / "sandbox.db"  # reports/ is git-ignored
    assert cfg.target_name == "sandbox"
    assert load_config(env={"CRRSIM_TARGET": " MapStage "}, cwd=tmp_path).target_name == "mapstage"
    url = load_config(env={}, overrides={"target": "https://127.0.0.1:9443/crr/"}, cwd=tmp_path)
    assert url.target_name == "https://127.0.0.1:9443/crr" and not url.is_sandbox
