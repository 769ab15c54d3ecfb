"""Every key and value that Python and the fast path's Lua script (answer.lua) both read or write.

The script builds a page's key and parses a grant inside Redis, so their formats live here and in
answer.lua only: a change here is a change there (core/tests/test_fastpath_formats.py holds them together).
"""

import hashlib
import secrets

AUTH = "auth"  # every grant of a company: bumped by a write to its auth tables outside any scope
HOSTS = "hosts"  # which company each hostname serves: bumped by a write to companies or domains (public schema)

# A page stored above the stack with every header the stack gave it: the only kind answered before it.
PAGE = "response"
# A page stored by the view with DRF's headers only (the stack adds the rest each time it serves one).
VIEW_PAGE = "view-response"

# What a namespace's generation reads as before its first bump; answer.lua reads a missing key the same way.
# A user's or a session's generation has no such value: answer.lua reads a missing one as "", which no grant holds.
FIRST_GENERATION = 1


def schema_key(schema_name, key, key_prefix, version):
    """`key` as stored in Redis for that schema (the format of django_tenants.cache), whatever schema is current."""
    return f"{schema_name}:{key_prefix}:{version}:{key}"


def generation_key(namespace):
    return f"gen:{namespace}"


def user_generation_key(user_id):
    return f"gen:{AUTH}:user:{user_id}"


def session_generation_key(session_id):
    return f"gen:{AUTH}:session:{session_id}"


def new_scoped_generation():
    """A user's or a session's next generation: random, so that it never repeats one a grant holds."""
    return secrets.token_hex(8)


def grant_key(session_id):
    return f"grant:{session_id}"


def who(hostname, user_id, password_claim):
    """Who a grant is for: the hostname, the user id and the password claim, one per line; None when a part
    is missing or could break the lines apart."""
    parts = (hostname, user_id, password_claim)
    if any(part is None or not str(part) or "\n" in str(part) for part in parts):
        return None
    return "\n".join(map(str, parts))


def grant_text(*, auth, hosts, user, session, asker, scope):
    """A grant, one field per line: the generations it was made under, `who` (three lines), the permission scope."""
    return f"{auth}\n{hosts}\n{user}\n{session}\n{asker}\n{scope}"


def versions(namespaces, generations):
    return ",".join(f"{namespace}.{generation}" for namespace, generation in zip(namespaces, generations, strict=True))


def data_key(name, schema_name, versions_text, parts):
    """A cached value's key: its name, the schema, the generations it was computed under, a digest of the rest.

    SHA-1 because answer.lua computes a page's digest inside Redis (redis.sha1hex).
    """
    digest = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:32]
    return f"{name}:{schema_name}:{versions_text}:{digest}"


def page_key(name, schema_name, versions_text, path, query, scope):
    return data_key(name, schema_name, versions_text, (path, query, scope))


def page_key_head(schema_name):
    """A fast-path page's key up to its versions; answer.lua adds the versions, ":" and the digest."""
    return f"{PAGE}:{schema_name}:"


def page_digest_head(path, query):
    """What a page's digest covers, up to the scope; answer.lua adds the grant's scope before hashing."""
    return f"{path}|{query}|"
