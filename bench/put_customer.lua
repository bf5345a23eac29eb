-- wrk script for roster's Track API benchmark (bench/run.py drives it).
--
--   wrk -t2 -c32 -d10s -s bench/put_customer.lua URL -- PREFIX USERS AUTH THREADS
--
-- Every request is `PUT PREFIX/user-<n>` with HTTP Basic auth (AUTH is base64 of
-- site_id:api_key) and the body {"email": "user-<n>@example.com", "plan": "pro", "seen": <counter>},
-- cycling over USERS users (each of the THREADS threads takes every THREADS-th one, from its own
-- start). PREFIX is /api/v1/customers for the real call or /bench/noop for the baseline.
-- Responses that are not 2xx are counted (the first one's status and body are kept), and done()
-- prints one line "WRK_JSON {...}" with the throughput, latency percentiles and errors.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

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

function response(status, headers, body)
  if status < 200 or status > 299 then
    if non2xx == 0 then
      first_status = tostring(status)
      first_body = string.sub(body or "", 1, 300)
    end
    non2xx = non2xx + 1
  end
end

local function quote(text)
  text = string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. text .. '"'
end

function done(summary, latency, requests)
  local non2xx_total, status, body = 0, "", ""
  for _, thread in ipairs(threads) do
    local count = thread:get("non2xx") or 0
    if count > 0 and status == "" then
      status = thread:get("first_status") or ""
      body = thread:get("first_body") or ""
    end
    non2xx_total = non2xx_total + count
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, '
      .. '"mean": %.1f, "stdev": %.1f}, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"non_2xx": %d, "first_non_2xx_status": %s, "first_non_2xx_body": %s}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, latency.stdev,
    e.connect, e.read, e.write, e.status, e.timeout,
    non2xx_total, quote(status), quote(body)
  ))
end
