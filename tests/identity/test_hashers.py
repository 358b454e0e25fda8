import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password


@pytest.fixture(autouse=True)
def _real_hashers(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = [
        "abonent.identity.hashers.Argon2idHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def test_passwords_are_argon2id_at_owasp_parameters() -> None:
    encoded = make_password("сложный-пароль-2026")

    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("сложный-пароль-2026", encoded)
    assert not check_password("сложный-пароль-2027", encoded)


def test_django_default_argon2_hash_still_verifies_and_needs_upgrade() -> None:
    from django.contrib.auth.hashers import Argon2PasswordHasher

    old = Argon2PasswordHasher().encode("пароль-старый", Argon2PasswordHasher().salt())

    assert check_password("пароль-старый", old)
    assert identify_hasher(old).must_update(old) is True
