"""Keys at rest: each user's key pair, each process's scope keys sealed to its members.

No key is ever stored in clear. A user's private key is sealed under their password (Argon2id)
and, separately, under a recovery key; a scope key is sealed to each member whose role reads
that scope; the process inbox's private key is sealed under the `record` scope key.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from uphold.processes import scopes


class UserKey(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="key"
    )
    public_key = models.BinaryField()
    password_salt = models.BinaryField()
    kdf_opslimit = models.PositiveIntegerField()
    kdf_memlimit = models.PositiveBigIntegerField()
    private_by_password = models.BinaryField()
    private_by_recovery = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"key of user {self.user_id}"


class ScopeKey(models.Model):
    """One generation of one scope's key in one process. Rotation adds a generation."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="scope_keys"
    )
    scope = models.CharField(max_length=16, choices=[(s, s) for s in scopes.READERS])
    generation = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    # A generation made by a rotation carries a MAC under the key it follows (`chain_from`):
    # a member who trusts that one trusts this one, and a generation a database writer inserts
    # follows from nothing.
    chain_from = models.PositiveIntegerField(null=True, blank=True)
    chain_mac = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["process", "scope", "generation"], name="one_key_per_generation"
            ),
            models.UniqueConstraint(
                fields=["process", "scope"],
                condition=models.Q(active=True),
                name="one_active_key_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} key {self.generation} of process {self.process_id}"


class SealedScopeKey(models.Model):
    scope_key = models.ForeignKey(ScopeKey, on_delete=models.CASCADE, related_name="sealed")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sealed_keys"
    )
    sealed = models.BinaryField()
    # A MAC under the scope key itself over (process, scope, generation, user, public key):
    # only someone holding the key can make it, so a row or a public key written into the
    # database by anyone else is recognised, and a rotation never seals to it.
    attestation = models.CharField(max_length=64, blank=True, default="")
    # A MAC under a key derived from the holder's own private key: the holder's pin on this key.
    # Nobody else can make it, so a key a database writer seals to a member is not pinned.
    holder_mac = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope_key", "user"], name="one_seal_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.scope_key} for user {self.user_id}"


class ProcessInbox(models.Model):
    """What arrives with no `record` member present is sealed to this public key."""

    process = models.OneToOneField(
        "processes.Process", on_delete=models.CASCADE, related_name="inbox"
    )
    public_key = models.BinaryField()
    private_sealed = models.BinaryField()
    record_generation = models.PositiveIntegerField()
    # A MAC of the public key under the `respondent` key, made by a group member who checked
    # that the public key is the private key's. X's portal seals to the public key only when
    # it holds: a database writer who puts their own public key here reads nothing X sends.
    attestation = models.CharField(max_length=64, blank=True)
    attested_generation = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"inbox of process {self.process_id}"


class Rotation(models.Model):
    """A change of keys in progress or done. Killed at any point, it is resumed from the data:
    each ciphertext names its key generation, so the rows still to move are found again."""

    process = models.ForeignKey(
        "processes.Process", on_delete=models.CASCADE, related_name="rotations"
    )
    scopes = models.CharField(max_length=100)  # comma-separated scope names
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rotation of {self.scopes} in process {self.process_id}"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]
