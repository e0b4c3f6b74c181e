"""The few primitives Uphold uses, all from libsodium through PyNaCl.

AEAD is XChaCha20-Poly1305 (random 24-byte nonces are safe); sealing to a member is libsodium's
sealed box; password keys come from Argon2id with parameters stored beside each use.
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
from django.conf import settings
from nacl.public import PrivateKey, PublicKey, SealedBox

KEY_BYTES = 32
NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
SALT_BYTES = argon2id.SALTBYTES


class CryptoError(Exception):
    """A ciphertext did not open: wrong key, or it was moved or altered. Never shown as text."""


@dataclass(frozen=True)
class KdfParams:
    opslimit: int
    memlimit: int


# Production: 64 MiB and 3 passes. Tests (UPHOLD_ARGON2_PROFILE=test): libsodium's minimum.
PRODUCTION_KDF = KdfParams(3, 64 * 1024 * 1024)
TEST_KDF = KdfParams(argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)


class UnsafeKdfParams(Exception):
    """Stored Argon2 parameters outside what this server would choose itself.

    Parameters are stored beside each key, so whoever can write to the database could set a
    memory limit that makes one login exhaust the server; they are refused before deriving.
    """


def kdf_params() -> KdfParams:
    return TEST_KDF if settings.UPHOLD_ARGON2_PROFILE == "test" else PRODUCTION_KDF


def check_kdf_params(params: KdfParams) -> None:
    """Between libsodium's minimum and the production values, whichever profile runs now: a key
    sealed under either profile opens, and nothing costs more than a production login."""
    if not (
        TEST_KDF.opslimit <= params.opslimit <= PRODUCTION_KDF.opslimit
        and TEST_KDF.memlimit <= params.memlimit <= PRODUCTION_KDF.memlimit
    ):
        raise UnsafeKdfParams(
            f"Argon2 parameters out of bounds: opslimit={params.opslimit} "
            f"memlimit={params.memlimit}"
        )


def random_key() -> bytes:
    return os.urandom(KEY_BYTES)


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def derive_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    check_kdf_params(params)
    return argon2id.kdf(KEY_BYTES, password.encode(), salt, params.opslimit, params.memlimit)


def encrypt(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, associated, nonce, key
    )


def decrypt(key: bytes, blob: bytes, associated: bytes) -> bytes:
    nonce, body = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(body, associated, nonce, key)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as error:
        raise CryptoError("ciphertext does not open with this key and context") from error


def new_key_pair() -> tuple[bytes, bytes]:
    """(public, private) as raw bytes."""
    private = PrivateKey.generate()
    return bytes(private.public_key), bytes(private)


def public_of(private_key: bytes) -> bytes:
    return bytes(PrivateKey(private_key).public_key)


def key_mac(key: bytes, purpose: bytes, message: bytes) -> str:
    """A MAC that only a holder of `key` can make; `purpose` keeps the uses apart."""
    mac_key = hashlib.blake2b(key, digest_size=32, person=purpose[:16]).digest()
    return hmac.new(mac_key, message, "sha256").hexdigest()


def same_mac(a: str, b: str) -> bool:
    return bool(a) and hmac.compare_digest(a, b)


def seal_to(public_key: bytes, plaintext: bytes) -> bytes:
    return SealedBox(PublicKey(public_key)).encrypt(plaintext)


def open_sealed(private_key: bytes, blob: bytes) -> bytes:
    try:
        return SealedBox(PrivateKey(private_key)).decrypt(blob)
    except nacl.exceptions.CryptoError as error:
        raise CryptoError("sealed box does not open with this key") from error


def scope_key_context(process_id: int, scope: str, generation: int) -> bytes:
    """Sealed with each scope key and checked on opening: a copy moved to another process,
    scope or generation by someone with write access to the database is refused."""
    return f"uphold-v1|scope-key|{process_id}|{scope}|{generation}|".encode()


def fingerprint(public_key: bytes) -> str:
    """What two people compare, by voice or in person, before keys are given to an account."""
    digest = base64.b32encode(hashlib.sha256(public_key).digest()).decode()[:16]
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))
