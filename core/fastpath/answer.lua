-- The cached-page answer, run by core/fastpath/middleware.py in one round trip.
-- Every key it is given or builds, and the grant it parses, are in the formats of core/fastpath/formats.py:
-- a change there is a change here.
--
-- KEYS: the hosts generation (public schema), the company's auth generation, the grant, the user's and the
--       session's generations, the namespaces' generations, the throttles' counters.
-- ARGV: who asks (formats.who), the page key up to its versions (formats.page_key_head, as stored), the
--       digest's text up to the scope (formats.page_digest_head), the page key this process holds a copy of
--       (or ""), the number of namespaces, each namespace's name, then each throttle's window and limit.
-- Returns {0} without a current grant, {1} without the page; with both (the throttles counted):
-- {2, refused, page, page key, milliseconds it has left}, or {3, refused} when the page is the one this
-- process holds.
local namespaces = tonumber(ARGV[5])
local found = redis.call("MGET", unpack(KEYS, 1, 5 + namespaces))
if not found[3] then return {0} end
-- formats.grant_text. A missing auth or hosts generation reads as formats.FIRST_GENERATION; a missing
-- user's or session's one as "", which matches no grant (formats.new_scoped_generation is never empty).
local auth, hosts, user, session, who, scope =
    string.match(found[3], "^(%d+)\n(%d+)\n(%x+)\n(%x+)\n(.+)\n(%x+)$")
if auth ~= (found[2] or "1") or hosts ~= (found[1] or "1") or user ~= (found[4] or "")
    or session ~= (found[5] or "") or who ~= ARGV[1] then
    return {0}
end
local versions = {}
for i = 1, namespaces do
    versions[i] = ARGV[5 + i] .. "." .. (found[5 + i] or "1")
end
-- formats.page_key
local page_key = ARGV[2] .. table.concat(versions, ",") .. ":" .. string.sub(redis.sha1hex(ARGV[3] .. scope), 1, 32)
local page, lifetime = false, 0
if page_key ~= ARGV[4] then
    page = redis.call("GET", page_key)
    if not page then return {1} end
    lifetime = redis.call("PTTL", page_key)
end
local refused = 0
for j = 1, #KEYS - 5 - namespaces do
    local key = KEYS[5 + namespaces + j]
    local count = redis.call("INCR", key)
    -- Atomic with the INCR inside the script: the request that opens the window sets its end.
    if count == 1 then redis.call("EXPIRE", key, ARGV[5 + namespaces + 2 * j - 1]) end
    if count > tonumber(ARGV[5 + namespaces + 2 * j]) then refused = 1 end
end
if page then return {2, refused, page, page_key, lifetime} end
return {3, refused}
