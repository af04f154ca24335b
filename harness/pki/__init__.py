"""Development PKI and certificate inspection for crrsim.

`ensure_dev_pki` gives every part of the harness the same CA, server and client identities;
`harness.pki.issue` makes one-off certificates for negative tests; `harness.pki.inspect`
explains a certificate file to a person.
"""

from __future__ import annotations

from harness.pki.devpki import (
    DEFAULT_DEV_PKI_DIR,
    PFX_PASSWORD_ENV,
    DevPKI,
    FileChange,
    IdentityFiles,
    clients_dir,
    dev_ca,
    dev_identity_files,
    ensure_dev_pki,
    files_for,
    identity_paths,
)
from harness.pki.inspect import CertificateReport, inspect_certificate
from harness.pki.loading import (
    CertificateLoadError,
    PemFiles,
    PfxPasswordError,
    load_pfx,
    pfx_as_pem_files,
)

__all__ = [
    "DEFAULT_DEV_PKI_DIR",
    "PFX_PASSWORD_ENV",
    "CertificateLoadError",
    "CertificateReport",
    "DevPKI",
    "FileChange",
    "IdentityFiles",
    "PemFiles",
    "PfxPasswordError",
    "clients_dir",
    "dev_ca",
    "dev_identity_files",
    "identity_paths",
    "ensure_dev_pki",
    "files_for",
    "inspect_certificate",
    "load_pfx",
    "pfx_as_pem_files",
]
