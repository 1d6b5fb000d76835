-- wrk script for bench/bench_chain.sh: POST /delete-data/PREFIX_N for the
-- receipts the script wrote straight into the database, N from 1 to
-- BENCH_N, each once, spread over wrk's threads.  Receipt N's deletion
-- token is the 32-byte big-endian number N (64 hex digits), whose SHA-256
-- the database holds.  Once its share is sent, a connection asks GET
-- /health once a second (it writes nothing) until the script stops wrk.
--
-- wrk (4.1, wrk.c main) calls request() once on the first thread's state,
-- after init() and before the run, to check it: that thread counts from -1,
-- and call -1 is that check's (a GET /health, never sent), so that the
-- check does not use up receipt 1.
--
-- Environment: BENCH_N, BENCH_PREFIX, BENCH_THREADS (wrk's -t).
-- done() prints one line: DELETE requests=R non2xx=C errors=E

local total = tonumber(os.getenv("BENCH_N") or "0")
local prefix = os.getenv("BENCH_PREFIX") or "e2e"
local nthreads_env = tonumber(os.getenv("BENCH_THREADS") or "1")

local nthreads = 0

function setup(thread)
   thread:set("tid", nthreads)
   nthreads = nthreads + 1
end

local k = 0
local headers = { ["Content-Type"] = "application/json" }

local function next_n()
   return k * nthreads_env + (tid or 0) + 1
end

function init(args)
   k = (tid or 0) == 0 and -1 or 0
end

function delay()
   return next_n() > total and 1000 or 0
end

function request()
   local n = next_n()
   k = k + 1
   if n < 1 or n > total then
      return wrk.format("GET", "/health")
   end
   local body = string.format('{"deletionToken":"%064x"}', n)
   return wrk.format("POST", string.format("/delete-data/%s_%d", prefix, n), headers, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("DELETE requests=%d non2xx=%d errors=%d\n", summary.requests, e.status,
      e.connect + e.read + e.write + e.timeout))
end
