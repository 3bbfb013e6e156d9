"""Secrets a URL can carry are masked wherever dbsynth shows or stores one (issue 14, item 6).

A URL holds secrets in its user info (a password, which may hold a raw ``@``, ``:`` or ``/``) and in its
query (libpq's ``password``, ``sslpassword``, the ``sslkey``/``sslcert`` paths, ``passfile``, and any
``*password*``/``*secret*``/``*token*`` key). :func:`dbsynth.errors.mask_url` must hide each, in text, in
SQLAlchemy URL objects and in messages that embed URLs.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as hs

from dbsynth.errors import (
    ConnectError,
    DbsynthError,
    UnsafeTargetError,
    mask_secrets,
    mask_url,
    url_secrets,
)
from dbsynth.metadata.records import DatabaseIdentity

SECRET = "S3cretPw!x"

# (URL, every secret it holds, text that must still be shown)
CASES = [
    ("postgresql://u:S3cretPw!x@127.0.0.1/db", ["S3cretPw!x"], "postgresql://u:***@127.0.0.1/db"),
    # a raw '@' in the password: SQLAlchemy's parser takes 'Pw!x@127.0.0.1' for the host
    ("postgresql://u:S3c@Pw!x@127.0.0.1/db", ["S3c", "Pw!x"], "postgresql://u:***@127.0.0.1/db"),
    ("postgresql://u:S3c:Pw/x@127.0.0.1:5432/db", ["S3c", "Pw/x"], "@127.0.0.1:5432/db"),
    ("postgresql://u:S3c?Pw#x@127.0.0.1/db", ["S3c", "Pw#x"], "@127.0.0.1/db"),
    ("postgresql://:S3cretPw!x@127.0.0.1/db", ["S3cretPw!x"], "@127.0.0.1/db"),
    ("postgresql+psycopg://u@127.0.0.1/db?password=S3cretPw!x", ["S3cretPw!x"], "db?password=***"),
    ("postgresql+psycopg://u@127.0.0.1/db?sslmode=require&password=S3c@Pw!x&application_name=a",
     ["S3c", "Pw!x"], "sslmode=require"),
    ("postgresql://u:pw1234@127.0.0.1/db?password=S3c@Pw!x", ["pw1234", "S3c", "Pw!x"], "@127.0.0.1/db"),
    ("postgresql://u@h/db?sslpassword=S3cretPw!x", ["S3cretPw!x"], "sslpassword=***"),
    ("postgresql://u@h/db?sslkey=/home/alice/.postgresql/client.key&sslmode=verify-full",
     ["/home/alice", "client.key"], "sslmode=verify-full"),
    ("postgresql://u@h/db?sslcert=/etc/ssl/alice.crt&sslrootcert=/etc/ssl/ca-alice.crt",
     ["alice.crt", "ca-alice"], "postgresql://u@h/db?"),
    ("postgresql://u@h/db?passfile=/home/alice/.pgpass", ["/home/alice"], "passfile=***"),
    ("mysql+pymysql://root@h/db?ssl_key_password=S3cretPw!x&Password=S3cretPw2", ["S3cretPw"], "root@h/db"),
    ("snowflake://u@acct/db?private_key_secret=S3cretPw!x&access_token=T0kenValue", ["S3cretPw!x", "T0kenValue"],
     "acct/db"),
    ("mssql+pyodbc://u@dsn?odbc_connect=DRIVER%3Dx%3BPWD%3DS3cretPw", ["S3cretPw"], "mssql+pyodbc://u@dsn"),
    ("host=127.0.0.1 user=u password=S3cretPw!x dbname=db", ["S3cretPw!x"], "dbname=db"),
    ("host=127.0.0.1 password='S3c ret Pw' dbname=db", ["S3c", "ret", "Pw'"], "dbname=db"),
    ("mysql://root@127.0.0.1:3306/test", [], "mysql://root@127.0.0.1:3306/test"),
    ("sqlite:////tmp/x.sqlite", [], "sqlite:////tmp/x.sqlite"),
]


@pytest.mark.parametrize("url, secrets, shown", CASES, ids=[c[0][:60] for c in CASES])
def test_mask_url_text(url, secrets, shown):
    masked = mask_url(url)
    for secret in secrets:
        assert secret not in masked, masked
    assert shown in masked


@pytest.mark.parametrize("url, secrets, shown", [c for c in CASES if "://" in c[0]], ids=lambda c: str(c)[:40])
def test_mask_url_object(url, secrets, shown):
    """The same through a SQLAlchemy URL object (its query values come back percent-encoded)."""
    masked = mask_url(sa.make_url(url))
    for secret in secrets:
        assert secret not in masked and secret.replace("!", "%21").replace("/", "%2F") not in masked, masked


def test_url_object_built_with_secrets():
    url = sa.URL.create(
        "postgresql+psycopg", username="u", password="S3c@Pw!x", host="h", database="db",
        query={"sslpassword": "Zz1-secret", "sslkey": "/keys/alice.key", "sslmode": "require"},
    )
    masked = mask_url(url)
    assert "S3c" not in masked and "Pw" not in masked and "Zz1" not in masked and "alice" not in masked
    assert "sslmode=require" in masked and masked.startswith("postgresql+psycopg://u:***@h/db")


def test_urls_inside_messages_are_masked():
    text = (
        "cannot connect to 'postgresql://u:S3c@Pw!x@127.0.0.1/db': FATAL: no such db; "
        "also tried mysql://root:S3cretPw2@db2/app?password=S3cretPw3 and host=h password=S3cretPw4"
    )
    masked = mask_url(text)
    for secret in ("S3c@", "Pw!x", "S3cretPw2", "S3cretPw3", "S3cretPw4"):
        assert secret not in masked
    assert "FATAL: no such db" in masked and "@127.0.0.1/db" in masked and "@db2/app" in masked


def test_a_masked_url_embedded_in_a_message_keeps_its_quotes():
    inner = mask_url("postgresql://u@h/db?password=S3cretPw!x&sslkey=/k/alice.key")
    outer = str(ConnectError(f"cannot connect to '{inner}': connection refused"))
    assert "cannot connect to 'postgresql://u@h/db?password=***&sslkey=***': connection refused" in outer
    assert mask_url("x password=***abc y") == "x password=*** y"


def test_a_password_that_looks_like_a_mask_is_still_masked():
    assert mask_url("postgresql://u:***x@h/db") == "postgresql://u:***@h/db"


def test_mask_secrets_masks_values_quoted_without_their_url():
    url = "postgresql://u:Pw-S3cret@h/db?sslkey=/home/alice/client.key"
    assert set(url_secrets(url)) == {"Pw-S3cret", "/home/alice/client.key"}
    text = 'could not load private key file "/home/alice/client.key"; password Pw-S3cret rejected'
    masked = mask_secrets(text, url)
    assert "alice" not in masked and "Pw-S3cret" not in masked and "could not load private key file" in masked
    assert url_secrets("not a url") == []


def test_errors_mask_message_and_hint():
    err = UnsafeTargetError(
        "the target postgresql://u@h/db?password=S3cretPw!x is the source",
        hint="Use postgresql://u:S3cretPw2@other/db instead.",
    )
    assert "S3cretPw" not in str(err) and "\n" not in str(err) and err.exit_code == 2
    assert "S3cretPw" not in str(ConnectError("cannot connect to 'postgresql://u:S3c@Pw!x@h/db'"))
    assert "S3cretPw" not in str(DbsynthError("x", hint="mysql://a:S3cretPw@h/db"))


_PW_CHARS = hs.text(alphabet="abcXYZ019!@:/?#%&=$^*()[]{}+,;.~-_'\"", min_size=0, max_size=12)


@settings(max_examples=300, deadline=None)
@given(a=_PW_CHARS, b=_PW_CHARS)
def test_userinfo_password_never_shows(a, b):
    """Whatever the password holds (raw '@', ':', '/', '?', '#', '&'), no part of it is shown."""
    password = f"Qq{a}@Jj{b}"
    for url in (f"postgresql://u:{password}@127.0.0.1/db", f"mysql+pymysql://root:{password}@127.0.0.1:3306/db?x=1"):
        masked = mask_url(url)
        assert "Qq" not in masked and "Jj" not in masked, masked
        assert mask_url(f"error at '{url}': refused").count("Qq") == 0


@settings(max_examples=300, deadline=None)
@given(a=hs.text(alphabet="abcXYZ019!@:/?#%=$^*()+,;.~-_", min_size=0, max_size=12),
       key=hs.sampled_from(["password", "sslpassword", "sslkey", "sslcert", "passfile", "my_secret", "api_token"]))
def test_query_secret_never_shows(a, key):
    masked = mask_url(f"postgresql://u:pw12@127.0.0.1/db?sslmode=require&{key}=Qq{a}&application_name=app")
    assert "Qq" not in masked and "pw12" not in masked, masked


def test_identity_compares_by_server():
    a = DatabaseIdentity("postgresql", database="src", server_id="7714", instance="5432/1.5", address="127.0.0.1:5432")
    assert a.same_as(DatabaseIdentity("postgresql", database="src", server_id="7714", instance="5432/1.5"))
    assert not a.same_as(DatabaseIdentity("postgresql", database="tgt", server_id="7714", instance="5432/1.5"))
    assert not a.same_as(DatabaseIdentity("postgresql", database="src", server_id="9999", instance="5432/7.5"))
    # restarted since the identity was taken: same identifier, same address (any loopback is one machine)
    assert a.same_as(DatabaseIdentity("postgresql", database="src", server_id="7714", instance="5432/9.9",
                                      address="::1:5432"))
    # a copy of the cluster on another machine (a staging server restored from a base backup) is not the source
    assert not a.same_as(DatabaseIdentity("postgresql", database="src", server_id="7714", instance="5432/9.9",
                                          address="10.0.0.7:5432"))
    # one side without the identifier: the instance, then the address decide
    assert a.same_as(DatabaseIdentity("postgresql", database="src", instance="5432/1.5"))
    assert not a.same_as(DatabaseIdentity("postgresql", database="src", instance="5433/1.5", address="127.0.0.1:5433"))
    # nothing to tell the servers apart (a Unix socket has no address): taken as the same, the safe side
    assert DatabaseIdentity("postgresql", database="src").same_as(a)
    assert a.same_as(DatabaseIdentity("postgresql", database="src", server_id="7714", instance="5432/9.9"))
    m = DatabaseIdentity("mysql", database="Shop", instance="vm:3306:/var/lib/mysql/")
    assert m.same_as(DatabaseIdentity("mysql", database="shop", instance="vm:3306:/var/lib/mysql/"))
    assert not m.same_as(DatabaseIdentity("mysql", database="shop", instance="vm:3307:/srv/other/"))
    u = DatabaseIdentity("mysql", database="shop", server_id="uuid-1", instance="a:3306:/d/")
    assert u.same_as(DatabaseIdentity("mysql", database="shop", server_id="uuid-1", instance="b:3306:/d/"))
    assert not u.same_as(DatabaseIdentity("mysql", database="shop", server_id="uuid-2", instance="a:3306:/d/"))
    s = DatabaseIdentity("sqlite", server_id="64:12")
    assert s.same_as(DatabaseIdentity("sqlite", server_id="64:12")) and not s.same_as(None)
    assert not s.same_as(DatabaseIdentity("sqlite", server_id="64:13"))
    assert not s.same_as(DatabaseIdentity("postgresql", database=None, server_id="64:12"))


def test_masking_a_long_message_stays_linear():
    """A 1 MB word (a value quoted in a driver's message) is masked at once; trying each of its letters as the
    start of a URL scheme took minutes (quadratic)."""
    word = "a" * 1_000_000
    assert mask_url(word) == word
    assert mask_url(f"error near {word} in postgresql://u:S3cretPw@h/db") == f"error near {word} in postgresql://u:***@h/db"
