"""Argon2id at the OWASP parameters (19 MiB, t=2, p=1): about 20 ms a hash instead of
Django's default 100 MiB and 176 ms on one core, so a login burst does not exhaust memory."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    algorithm = "argon2"  # same prefix: hashes with other parameters still verify and get upgraded
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
