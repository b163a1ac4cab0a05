-- wrk script for the spendstream benchmarks (wrk 4.x, LuaJIT / Lua 5.1).
--
-- Environment:
--   BENCH_TOKEN   access token sent as "Authorization: Bearer ..." (required)
--   BENCH_MODE    "get" (default): GET the URL given to wrk as is
--                 "post": POST /v1/expenses with a new, varied entry each request
--   BENCH_STATUS  "1": also count responses per HTTP status (slower: wrk then
--                 hands every response to Lua); used only to diagnose non-2xx.
--
-- At the end it prints one machine-readable line, parsed by bench/run.sh:
--   BENCH requests=... duration_us=... rps=... p50_us=... p90_us=... p99_us=... max_us=...
--         non2xx=... connect=... read=... write=... timeout=... [statuses=201:n,503:n]

local token = os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is not set")
local mode = os.getenv("BENCH_MODE") or "get"

wrk.headers["Authorization"] = "Bearer " .. token

local merchants = {
  "Swiggy", "Zomato", "Uber", "Ola", "BigBasket", "Blinkit", "Zepto", "Amazon", "Flipkart",
  "Shell", "Indian Oil", "Apollo Pharmacy", "Netflix", "Starbucks", "Chai Point", "IRCTC",
  "BookMyShow", "Airtel", "Local Kirana Store", "Myntra",
}

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(1000003 * (thread_id or 1) + 17)
  statuses = {}
end

if mode == "post" then
  wrk.method = "POST"
  wrk.path = "/v1/expenses"
  wrk.headers["Content-Type"] = "application/json"
  request = function()
    local minor = math.random(2000, 500000)
    local body = string.format('{"amount":"%d.%02d","merchant":"%s","occurred_at":"2026-%02d-%02d"}',
      math.floor(minor / 100), minor % 100, merchants[math.random(#merchants)],
      math.random(1, 10), math.random(1, 28))
    return wrk.format(nil, nil, nil, body)
  end
elseif mode ~= "get" then
  error("BENCH_MODE must be get or post, not " .. mode)
end

if os.getenv("BENCH_STATUS") == "1" then
  response = function(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    -- a write whose answer did not wait for the processors (api.read_your_writes_ms ran out)
    if body and string.find(body, '"status":"pending"', 1, true) then
      statuses["pending"] = (statuses["pending"] or 0) + 1
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local line = string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout)
  if os.getenv("BENCH_STATUS") == "1" then
    local total = {}
    for _, t in ipairs(threads) do
      local s = t:get("statuses")
      if type(s) == "table" then
        for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
      end
    end
    local parts = {}
    for code, n in pairs(total) do table.insert(parts, code .. ":" .. n) end
    table.sort(parts)
    line = line .. " statuses=" .. table.concat(parts, ",")
  end
  io.write(line .. "\n")
end
