"""Secrets kept sealed where others can read them: a support mailbox's password in the directory (its log, its
bucket, its public events), sealed by whoever puts it (intake's API, the operator's CLI) and opened only by the
mailbox poller in intake.

A seal is a Fernet token (AES-128-CBC and HMAC-SHA256, the ``cryptography`` package) under the first of the keys
configured (``INTAKE_MAILBOX_KEYS``, comma-separated); any of them opens one. To rotate: put a new key first, keep
the old one after it until every mailbox has been put again (a put without its password seals the one held anew,
under the first key: ``rotate``), then drop it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealBroken(ValueError):
    """The token was not sealed by any of the keys (a key dropped too soon), or was changed since."""


class NoSealingKey(ValueError):
    """No key is configured, so nothing can be sealed or opened."""


def new_key() -> str:
    """A new key, as ``INTAKE_MAILBOX_KEYS`` takes it (32 random bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


class Sealer:
    def __init__(self, keys: Sequence[str]) -> None:
        """Raises ``ValueError`` naming the key that is no Fernet key (so a bad configuration stops start-up)."""
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError) as error:
                raise ValueError(f"mailbox key {position} is not a Fernet key (32 bytes in URL-safe base64)") from error
        self._fernet = MultiFernet(fernets) if fernets else None

    @classmethod
    def of_setting(cls, keys: str) -> Sealer:
        """The sealer of ``INTAKE_MAILBOX_KEYS`` as written: keys separated by commas, blanks ignored."""
        return cls([each for each in keys.split(",") if each.strip()])

    @property
    def usable(self) -> bool:
        return self._fernet is not None

    def seal(self, secret: str) -> str:
        if self._fernet is None:
            raise NoSealingKey("no mailbox key is configured (INTAKE_MAILBOX_KEYS)")
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        if self._fernet is None:
            raise NoSealingKey("no mailbox key is configured (INTAKE_MAILBOX_KEYS)")
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as error:
            raise SealBroken("the password was sealed with a key no longer configured, or altered") from error

    def rotate(self, token: str) -> str:
        """``token`` sealed anew under the first key (raises as ``open``)."""
        if self._fernet is None:
            raise NoSealingKey("no mailbox key is configured (INTAKE_MAILBOX_KEYS)")
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as error:
            raise SealBroken("the password was sealed with a key no longer configured, or altered") from error
