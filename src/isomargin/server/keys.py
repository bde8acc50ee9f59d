"""API keys: key → (account, permissions, secret), persisted in `<data>/keys.json` (mode 0600).

Secrets are returned once, when a key is created, and never again; listings show the key and its
permissions only. Signing follows Binance: HMAC-SHA256 over the raw query string (less `signature`) + body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PERMISSIONS = ("read", "trade", "operator")


@dataclass(frozen=True, slots=True)
class ApiKey:
    key: str
    secret: str
    account: int
    permissions: tuple[str, ...]
    label: str = ""
    created: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "apiKey": self.key,
            "account": self.account,
            "permissions": list(self.permissions),
            "label": self.label,
            "created": self.created,
        }


class KeyStore:
    """Thread-safe key table backed by a JSON file (atomic replace on every change)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        if path.exists():
            for row in json.loads(path.read_text()).get("keys", []):
                k = ApiKey(
                    row["key"], row["secret"], int(row["account"]), tuple(row["permissions"]), row.get("label", ""),
                    int(row.get("created", 0)),
                )  # fmt: skip
                self._keys[k.key] = k

    def get(self, key: str) -> ApiKey | None:
        return self._keys.get(key)

    def create(self, account: int, permissions: tuple[str, ...], label: str = "") -> ApiKey:
        bad = [p for p in permissions if p not in PERMISSIONS]
        if bad or not permissions:
            raise ValueError(f"permissions must be a non-empty subset of {', '.join(PERMISSIONS)}; got {bad}")
        key = ApiKey(
            secrets.token_hex(32), secrets.token_hex(32), account, tuple(dict.fromkeys(permissions)), label[:64],
            int(time.time() * 1000),
        )  # fmt: skip
        with self._lock:
            self._keys[key.key] = key
            self._save()
        return key

    def revoke(self, key: str) -> bool:
        with self._lock:
            found = self._keys.pop(key, None) is not None
            if found:
                self._save()
        return found

    def of_account(self, account: int | None = None) -> list[ApiKey]:
        return [k for k in self._keys.values() if account is None or k.account == account]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"keys": [asdict(k) for k in self._keys.values()]}, fh)
        os.replace(tmp, self.path)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Split a raw query string or form body into (everything but `signature=…`, the signature)."""
    if not raw:
        return "", None
    parts = raw.split("&")
    sig = None
    kept = []
    for p in parts:
        if p.startswith("signature="):
            sig = p[len("signature=") :]
        else:
            kept.append(p)
    return "&".join(kept), sig


def verify(secret: str, query: str, body: str) -> bool:
    """Binance's rule: the signature covers the query string followed directly by the body."""
    q, qsig = strip_signature(query)
    b, bsig = strip_signature(body) if qsig is None else (body, None)
    sig = qsig or bsig
    if not sig:
        return False
    return hmac.compare_digest(sign(secret, q + b), sig.lower())
