-- wrk script for roster's Track API benchmark (`python -m bench` drives it, from bench/load.py).
--
--   wrk -t2 -c32 -d10s -s bench/put_customer.lua URL -- PREFIX USERS AUTH THREADS
--
-- Every request is `PUT PREFIX/user-<n>` with HTTP Basic auth (AUTH is base64 of
-- site_id:api_key) and the body {"email": "user-<n>@example.com", "plan": "pro", "seen": <counter>},
-- cycling over USERS users (each of the THREADS threads takes every THREADS-th one, from its own
-- start). PREFIX is /api/v1/customers for the real call or /bench/noop for the baseline.
-- Responses that are not 2xx are counted (the first one's status and body are kept), and done()
-- prints one line "WRK_JSON {...}" with the throughput, latency percentiles and errors.

-- The shared parts (thread registry, non-2xx counting, the WRK_JSON report) live beside us.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")

function init(args)
  prefix = args[1] or "/api/v1/customers"
  users = tonumber(args[2] or "10000")
  nthreads = tonumber(args[4] or "1")
  counter = 0
  non2xx = 0
  first_status = ""
  first_body = ""
  wrk.headers["Authorization"] = "Basic " .. (args[3] or "")
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local n = (id + counter * nthreads) % users
  counter = counter + 1
  local body = string.format(
    '{"email": "user-%d@example.com", "plan": "pro", "seen": %d}', n, counter
  )
  return wrk.format("PUT", string.format("%s/user-%d", prefix, n), nil, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
