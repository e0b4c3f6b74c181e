"""A cheap Argon2 for the test suite only (chosen by UPHOLD_ARGON2_PROFILE=test)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
