"""formats.py and answer.lua agree: a grant and a page made in Python are the ones the script reads in Redis."""

import uuid

import pytest
import redis
from django.conf import settings

from core.fastpath import formats
from core.fastpath.middleware import ANSWER, run_script

SCHEMA, PREFIX, VERSION = "acme", "formats-test", 1
PATH, QUERY, SCOPE = "/api/growers/", "limit=5", "0123456789abcdef"
ASKER = formats.who("acme.localhost", 7, "d41d8cd98f00b204e9800998ecf8427e")


@pytest.fixture
def client():
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    yield client
    client.close()


def key(name, schema=SCHEMA):
    return formats.schema_key(schema, name, PREFIX, VERSION)


def ask(client, session_id):
    keys = [
        key(formats.generation_key(formats.HOSTS), "public"), key(formats.generation_key(formats.AUTH)),
        key(formats.grant_key(session_id)), key(formats.user_generation_key(7)),
        key(formats.session_generation_key(session_id)), key(formats.generation_key("growers")),
    ]
    arguments = [ASKER, key(formats.page_key_head(SCHEMA)), formats.page_digest_head(PATH, QUERY), "", 1, "growers"]
    return run_script(client, keys, arguments)


def test_the_script_names_the_module_that_owns_its_formats():
    assert "core/fastpath/formats.py" in "".join(ANSWER.splitlines()[:3])


def test_a_grant_and_a_page_made_in_python_are_read_by_the_script(client):
    session_id = str(uuid.uuid4())
    user_generation, session_generation = formats.new_scoped_generation(), formats.new_scoped_generation()
    page = key(formats.page_key(formats.PAGE, SCHEMA, formats.versions(["growers"], [3]), PATH, QUERY, SCOPE))
    grant = formats.grant_text(auth=formats.FIRST_GENERATION, hosts=formats.FIRST_GENERATION, user=user_generation,
                               session=session_generation, asker=ASKER, scope=SCOPE)
    user_key, session_key = key(formats.user_generation_key(7)), key(formats.session_generation_key(session_id))
    written = [page, key(formats.grant_key(session_id)), key(formats.generation_key("growers")), user_key, session_key]
    try:
        client.set(page, b"the page", ex=60)
        client.set(key(formats.generation_key("growers")), 3, ex=60)
        client.set(user_key, user_generation, ex=60)
        client.set(session_key, session_generation, ex=60)
        client.set(key(formats.grant_key(session_id)), grant, ex=60)

        answer = ask(client, session_id)
        assert answer[0] == 2 and answer[2] == b"the page" and answer[3].decode() == page

        client.delete(session_key)
        assert ask(client, session_id) == [0]  # expired or evicted: it matches no grant
        client.set(session_key, session_generation, ex=60)
        client.set(user_key, formats.new_scoped_generation(), ex=60)
        assert ask(client, session_id) == [0]  # the user's generation moved on: the grant is retired
    finally:
        client.delete(*written)
