"""Encryption at rest for app tokens and partner secrets."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretDecryptionError(Exception):
    """The stored value was encrypted with another ``APP_SECRET_KEY``."""


class SecretCipher:
    def __init__(self, secret_key: str) -> None:
        # HKDF turns a passphrase of any length into the 32-byte key Fernet needs.
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"saleor-ops/secret-cipher/v1").derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret does not decrypt with APP_SECRET_KEY") from exc
