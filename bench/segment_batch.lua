-- wrk script for roster's Segment ingestion benchmark (`python -m bench` drives it, from bench/load.py).
--
--   wrk -t2 -c8 -d10s -s bench/segment_batch.lua URL -- WRITE_KEY USERS BATCH TAG SEED
--
-- Every request is `POST /v1/batch` with the write key as Bearer and a body of BATCH messages,
-- the traffic bench/floor.py writes: alternately an identify
--   {"type":"identify","userId":"user-<n>","messageId":..,
--    "traits":{"email":"user-<n>@example.com","plan":<free|pro|team>,"seen":<counter>}}
-- and a track
--   {"type":"track","userId":"user-<n>","event":"Order Completed","messageId":..,
--    "properties":{"revenue":9.99,"sku":"sku-1","n":<counter>}}
-- with user-<n> drawn at random from USERS users (each thread seeds its own generator from SEED
-- and its thread id). A messageId is TAG-<thread id>-<request>-<message>: TAG names the wrk run
-- (warm-up, measured, which server), so no message of any run is de-duplicated away.
-- Bodies are built in Lua for each request (about 10 KB; wrk spends well under a millisecond).
-- Responses that are not 2xx are counted (the first one's status and body are kept), the
-- requests built and the track messages in them are counted (a request built but not answered
-- when the run stopped may still have been stored), and done() prints one line
-- "WRK_JSON {...}" with the throughput, latency percentiles, errors and those counts.

-- The shared parts (thread registry, non-2xx counting, the WRK_JSON report) live beside us.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")

local plans = { "free", "pro", "team" }
local identify = '{"type":"identify","userId":"user-%d","messageId":"%s-%d-%d-%d",'
  .. '"traits":{"email":"user-%d@example.com","plan":"%s","seen":%d}}'
local track = '{"type":"track","userId":"user-%d","event":"Order Completed",'
  .. '"messageId":"%s-%d-%d-%d","properties":{"revenue":9.99,"sku":"sku-1","n":%d}}'

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. (args[1] or "")
  wrk.headers["Content-Type"] = "application/json"
  users = tonumber(args[2] or "10000")
  batch = tonumber(args[3] or "100")
  tag = args[4] or "run"
  math.randomseed(tonumber(args[5] or "7") * 1000 + id)
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
    seen = seen + 1
    if i % 2 == 1 then
      parts[i] = string.format(
        identify, n, tag, id, counter, i, n, plans[math.random(1, 3)], seen
      )
    else
      tracks = tracks + 1
      parts[i] = string.format(track, n, tag, id, counter, i, seen)
    end
  end
  local body = '{"batch":[' .. table.concat(parts, ",") .. "]}"
  return wrk.format("POST", "/v1/batch", nil, body)
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
