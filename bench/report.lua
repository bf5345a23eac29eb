-- What roster's wrk scripts share (loaded with dofile by put_customer.lua, get.lua and
-- batch.lua): threads are registered, non-2xx answers counted (the first one's status and body
-- kept), and report() prints one line "WRK_JSON {...}" with the throughput, latency percentiles,
-- errors, and whatever counts the script adds.

threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function response(status, headers, body)
  -- A 207 (Track API v2) means some operations of the batch were refused: not acknowledged.
  if status < 200 or status > 299 or status == 207 then
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

-- `extra` is a JSON fragment (', "name": value, ...') of the script's own counts.
function report(summary, latency, extra)
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
      .. '"non_2xx": %d, "first_non_2xx_status": %s, "first_non_2xx_body": %s%s}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, latency.stdev,
    e.connect, e.read, e.write, e.status, e.timeout,
    non2xx_total, quote(status), quote(body), extra or ""
  ))
end
