"""API keys: ``hd_<id>_<secret>``, made here, shown once, and sent only as the SHA-256 of the whole key.

The id (12 lower-case letters and digits) names the key's record, ``api_key.<id>``, so a service finds the
record from the key itself; the secret is 32 random bytes (``secrets``), URL-safe. Nobody can get the key back
from what is stored or sent: whoever loses it makes a new one and revokes the old.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass

KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
KEY_ID_LENGTH = 12
SECRET_BYTES = 32
KEY_PATTERN = re.compile(r"^hd_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    id: str
    key: str

    @property
    def sha256(self) -> str:
        return key_hash(self.key)


def new_key() -> NewKey:
    key_id = "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    return NewKey(id=key_id, key=f"hd_{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}")


def key_hash(key: str) -> str:
    """What the directory keeps of a key: the hex SHA-256 of the whole key, prefix and id included."""
    return hashlib.sha256(key.encode()).hexdigest()
