"""Personal data at rest: AES-GCM encryption plus a keyed blind index (HMAC-SHA256).

The blind index keeps an encrypted value unique and findable by exact match
without storing it in the clear. Keys are derived from WENMING_DATA_KEY.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@lru_cache(maxsize=4)
def _derive(master: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"wenming-pii", info=purpose).derive(master.encode())


def _enc_key() -> AESGCM:
    return _aead(settings.WENMING_DATA_KEY)


@lru_cache(maxsize=4)
def _aead(master: str) -> AESGCM:
    return AESGCM(_derive(master, b"encrypt"))


def encrypt(value: str) -> str:
    nonce = os.urandom(12)
    sealed = _enc_key().encrypt(nonce, value.encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    raw = base64.b64decode(token)
    return _enc_key().decrypt(raw[:12], raw[12:], None).decode()


def blind_index(value: str, kind: str) -> str:
    key = _derive(settings.WENMING_DATA_KEY, b"index:" + kind.encode())
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str) -> str:
    """First 6 and last 4 kept at most (SPEC: Trust)."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
