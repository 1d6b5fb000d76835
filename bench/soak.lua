-- wrk script for bench/soak.sh: distinct submit-data bodies, each connection
-- waiting SOAK_DELAY_MS between requests, so that the rate is a chosen part
-- of the peak rather than all of it.  done() prints one machine-readable
-- line:  SOAK requests=R rps=X p50_ms=A p99_ms=B max_ms=C non2xx=N errors=E
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0") or 0
local run = tonumber(os.getenv("SOAK_RUN") or "0") or 0
local nthreads = 0

function setup(thread)
   thread:set("tid", nthreads)
   nthreads = nthreads + 1
end

local k = 0
local headers = { ["Content-Type"] = "application/json" }

function request()
   local n = run * 1e12 + k * 1024 + (tid or 0)
   k = k + 1
   local body = string.format(
      '{"userId":"soak%.0f@example.com","sensitivePayload":"Soak %.0f: a movie and a match, age: %d"}',
      n, n, 13 + (n % 70))
   return wrk.format("POST", "/submit-data", headers, body)
end

function delay()
   return delay_ms
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("SOAK requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d errors=%d\n",
      summary.requests, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      e.status, e.connect + e.read + e.write + e.timeout))
end
