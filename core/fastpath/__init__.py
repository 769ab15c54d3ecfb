"""The fast path: a Bearer token's repeated GET of a cached API list, answered from Redis alone.

It exists because the full stack costs a cached page about a millisecond of Python and two SQL
statements; answered before the stack, in one Redis round trip (answer.lua), the growers list runs at
about 0.6 x a bare middleware. middleware.py answers and stores pages, grants.py remembers the
database's yes to a token and retires it, formats.py owns every key and value Python and Lua share.

The switch: CACHED_PAGE_FAST_PATH (settings; README's configuration table). Off, every request goes
through DRF and the lists are still cached (core.cache.cached).

It must never answer what the full stack would answer differently (another status, bytes, headers or
throttle count), never answer without a current grant, and never cost a request: any doubt or fault
hands the request on to the full stack. Like all of core, it imports no domain app.
"""
