-- wrk script for roster's batch ingestion benchmarks (`python -m bench` drives it, from
-- bench/load.py): Segment `POST /v1/batch` and Track API v2 `POST /api/v2/batch`, the same traffic.
--
--   wrk -t2 -c8 -d10s -s bench/batch.lua URL -- AUTHORIZATION USERS BATCH TAG SEED API
--
-- API is `segment` or `v2`; AUTHORIZATION is the whole header value (`Bearer <write key>` for
-- Segment, `Basic <base64 of site_id:track_api_key>` for v2). Every request carries BATCH
-- messages, the traffic bench/floor.py writes: alternately an identify and a track of user-<n>,
-- drawn at random from USERS users (each thread seeds its own generator from SEED and its thread
-- id). In Segment's words
--   {"type":"identify","userId":"user-<n>","messageId":..,
--    "traits":{"email":"user-<n>@example.com","plan":<free|pro|team>,"seen":<counter>}}
--   {"type":"track","userId":"user-<n>","event":"Order Completed","messageId":..,
--    "properties":{"revenue":9.99,"sku":"sku-1","n":<counter>}}
-- and in v2's
--   {"type":"person","action":"identify","identifiers":{"id":"user-<n>"},
--    "attributes":{"email":"user-<n>@example.com","plan":<free|pro|team>,"seen":<counter>}}
--   {"type":"person","action":"event","identifiers":{"id":"user-<n>"},"name":"Order Completed",
--    "id":..,"attributes":{"revenue":9.99,"sku":"sku-1","n":<counter>}}
-- A messageId (v2: a track's event id) is TAG-<thread id>-<request>-<message>: TAG names the wrk
-- run (warm-up, measured, which server), so no message of any run is de-duplicated away.
-- Bodies are built in Lua for each request (about 10 KB; wrk spends well under a millisecond).
-- Answers that are not 2xx, and v2's 207 (some operations refused), are counted (the first one's
-- status and body are kept), the requests built and the track messages in them are counted (a
-- request built but not answered when the run stopped may still have been stored), and done()
-- prints one line "WRK_JSON {...}" with the throughput, latency percentiles, errors and those
-- counts.

-- The shared parts (thread registry, non-2xx counting, the WRK_JSON report) live beside us.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")

local plans = { "free", "pro", "team" }
local apis = {
  segment = {
    path = "/v1/batch",
    identify = '{"type":"identify","userId":"user-%d","messageId":"%s",'
      .. '"traits":{"email":"user-%d@example.com","plan":"%s","seen":%d}}',
    track = '{"type":"track","userId":"user-%d","event":"Order Completed",'
      .. '"messageId":"%s","properties":{"revenue":9.99,"sku":"sku-1","n":%d}}',
  },
  v2 = {
    path = "/api/v2/batch",
    -- An identify carries no id: v2 keeps one for events only. The format still takes it, so
    -- that both APIs' formats take the same arguments; "%.0s" prints nothing of it.
    identify = '{"type":"person","action":"identify","identifiers":{"id":"user-%d"}%.0s,'
      .. '"attributes":{"email":"user-%d@example.com","plan":"%s","seen":%d}}',
    track = '{"type":"person","action":"event","identifiers":{"id":"user-%d"},'
      .. '"name":"Order Completed","id":"%s","attributes":{"revenue":9.99,"sku":"sku-1","n":%d}}',
  },
}

function init(args)
  wrk.headers["Authorization"] = args[1] or ""
  wrk.headers["Content-Type"] = "application/json"
  users = tonumber(args[2] or "10000")
  batch = tonumber(args[3] or "100")
  tag = args[4] or "run"
  math.randomseed(tonumber(args[5] or "7") * 1000 + id)
  api = apis[args[6] or "segment"]
  if api == nil then
    error("API must be segment or v2, not " .. tostring(args[6]))
  end
  counter = 0   -- requests built by this thread
  seen = 0      -- messages built by this thread (the "seen" / "n" counter)
  tracks = 0    -- track messages built by this thread
  non2xx = 0
  first_status = ""
  first_body = ""
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, batch do
    local n = math.random(0, users - 1)
    local message_id = string.format("%s-%d-%d-%d", tag, id, counter, i)
    seen = seen + 1
    if i % 2 == 1 then
      parts[i] = string.format(api.identify, n, message_id, n, plans[math.random(1, 3)], seen)
    else
      tracks = tracks + 1
      parts[i] = string.format(api.track, n, message_id, seen)
    end
  end
  local body = '{"batch":[' .. table.concat(parts, ",") .. "]}"
  return wrk.format("POST", api.path, nil, body)
end

function done(summary, latency, requests)
  local built, tracks_built = 0, 0
  local batch = threads[1] and threads[1]:get("batch") or 0
  for _, thread in ipairs(threads) do
    built = built + (thread:get("counter") or 0)
    tracks_built = tracks_built + (thread:get("tracks") or 0)
  end
  report(summary, latency, string.format(
    ', "requests_built": %d, "tracks_built": %d, "batch": %d', built, tracks_built, batch
  ))
end
