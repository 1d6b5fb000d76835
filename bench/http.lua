-- wrk script for bench/bench_http.sh.
--
-- BENCH_KIND (environment) picks the request:
--   submit  POST <url path> with a distinct submit-data body per request
--           (toyapp /submit-data, and ref_lws /echo with the same bodies)
--   submit_keyed  the same, each with its own Idempotency-Key header
--   signup  POST <url path> with a distinct signup body per request
--   get     GET <url path>, the same request every time (wrk's static path)
-- BENCH_RUN (environment, a small integer) keeps the ids of one run apart
-- from those of another run against the same database.
--
-- Request number k of thread t gets N = RUN*10^12 + k*1024 + t (t < 1024,
-- set per thread in setup()): no two requests of a run, and no two runs,
-- share a user id.
--
-- done() prints one machine-readable line for the script to parse:
--   BENCH requests=R seconds=S rps=X p50_ms=A p99_ms=B non2xx=C connect=.. read=.. write=.. timeout=..

local kind = os.getenv("BENCH_KIND") or "get"
local run = tonumber(os.getenv("BENCH_RUN") or "0") or 0

local nthreads = 0

function setup(thread)
   thread:set("tid", nthreads)
   nthreads = nthreads + 1
end

-- Words the classify derivation looks for, and some it does not, so the
-- bodies spread over its categories rather than hitting one path.
local topics = {
   "movie", "lecture", "recipe", "football match", "software release",
   "concert", "homework", "travel vlog", "tennis final", "robot kit",
   "weather report", "netflix series", "fitness routine", "coding stream",
   "garden tour", "basketball game", "study session", "phone review",
}

if kind ~= "get" then
   local k = 0
   local base = run * 1e12
   local headers = { ["Content-Type"] = "application/json" }

   function request()
      local n = base + k * 1024 + (tid or 0)
      k = k + 1
      if kind == "submit_keyed" then
         headers["Idempotency-Key"] = string.format('"bench-%.0f"', n)
      end
      local body
      if kind == "signup" then
         body = string.format('{"userId":"user%.0f@example.com"}', n)
      else
         local a = topics[(n % #topics) + 1]
         local b = topics[(math.floor(n / #topics) % #topics) + 1]
         body = string.format(
            '{"userId":"user%.0f@example.com","sensitivePayload":"Entry %.0f: last night I watched a %s, '
               .. 'then spent an hour on a %s and wrote notes about both. age: %d"}',
            n, n, a, b, 13 + (n % 70))
      end
      return wrk.format("POST", nil, headers, body)
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.status, e.connect, e.read, e.write, e.timeout))
end
