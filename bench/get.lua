-- wrk script for the bare baseline of roster's Track API benchmark (`python -m bench` drives it,
-- from bench/load.py): every request is `GET PATH` with no credentials and no body.
--
--   wrk -t2 -c32 -d10s -s bench/get.lua URL -- PATH
--
-- PATH is /healthz, which answers {"status": "ok"} without touching the database: the requests/s
-- of the HTTP stack alone, on the same server as the calls measured against it.

-- The shared parts (thread registry, non-2xx counting, the WRK_JSON report) live beside us.
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")

function init(args)
  path = args[1] or "/healthz"
  non2xx = 0
  first_status = ""
  first_body = ""
end

function request()
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  report(summary, latency)
end
