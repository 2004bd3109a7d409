-- wrk script of the HostDesk benchmark: one connection per thread, so that each response answers the request
-- sent just before it on that thread, and the Lua hooks can time every request.
--
-- Configured through the environment, which every Lua state of wrk (the main one and each thread's) can read:
--   BENCH_DATA      a Lua file returning { requests = { {path=, token=, body=}, ... } }
--   BENCH_OUT       the folder where done() writes thread-<n>.txt (records) and ids-<n>.txt (ticket ids)
--   BENCH_INTERVAL  microseconds between two sends on one connection (0: as fast as the server answers)
--   BENCH_MAX       requests per thread, after which the thread stops
--   BENCH_THREADS   wrk's thread count: thread n sends requests n, n + threads, n + 2 * threads... of the list
--   BENCH_IDS       ticket ids to keep per thread from 201 answers (for the replies phase)
-- Each record is "<send time, CLOCK_MONOTONIC µs> <latency µs> <HTTP status>".

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end

local data = dofile(os.getenv("BENCH_DATA"))
local out = os.getenv("BENCH_OUT")
local interval_us = tonumber(os.getenv("BENCH_INTERVAL") or "0")
local max_requests = tonumber(os.getenv("BENCH_MAX") or "1000000")
local ids_wanted = tonumber(os.getenv("BENCH_IDS") or "0")
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

-- Main state: number the threads, and collect what they recorded once they are done.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  for index, thread in ipairs(threads) do
    local records = thread:get("records")
    local file = assert(io.open(string.format("%s/thread-%d.txt", out, index - 1), "w"))
    file:write(table.concat(records, "\n"))
    file:close()
    local ids = thread:get("ids")
    file = assert(io.open(string.format("%s/ids-%d.txt", out, index - 1), "w"))
    file:write(table.concat(ids, "\n"))
    file:close()
  end
  local errors = summary.errors
  local file = assert(io.open(out .. "/summary.txt", "w"))
  file:write(string.format(
    "duration_us=%d\nrequests=%d\nconnect_errors=%d\nread_errors=%d\nwrite_errors=%d\nstatus_errors=%d\ntimeouts=%d\n",
    summary.duration, summary.requests, errors.connect, errors.read, errors.write, errors.status, errors.timeout
  ))
  file:close()
end

-- Thread states: this thread's share of the requests, pre-built, cycled.
id = 0
records = {}
ids = {}
local prepared = {}
local cursor = 0
local sent = 0
local sent_at = 0
local next_at = nil

function init(args)
  for index = id + 1, #data.requests, thread_count do
    local item = data.requests[index]
    local headers = { ["Authorization"] = "Bearer " .. item.token, ["Content-Type"] = "application/json" }
    table.insert(prepared, wrk.format("POST", item.path, headers, item.body))
  end
  assert(#prepared > 0, "fewer requests than threads")
  math.randomseed(id + 1)
end

local function paced_delay()
  local now = now_us()
  if next_at == nil then
    next_at = now + math.random() * interval_us -- spread the connections' first sends over one interval
  else
    next_at = next_at + interval_us
  end
  if next_at < now - interval_us then
    next_at = now -- more than one interval behind: carry on from now rather than send a burst
  end
  local wait_us = next_at - now
  if wait_us <= 0 then
    return 0
  end
  return math.floor(wait_us / 1000 + 0.5)
end

if interval_us > 0 then
  delay = paced_delay
end

function request()
  cursor = cursor % #prepared + 1
  sent = sent + 1
  sent_at = now_us()
  return prepared[cursor]
end

function response(status, headers, body)
  local finished = now_us()
  records[#records + 1] = string.format("%d %d %d", sent_at, finished - sent_at, status)
  if status == 201 and #ids < ids_wanted then
    local ticket_id = string.match(body, '"ticket_id":"([0-9a-f%-]+)"')
    if ticket_id then
      ids[#ids + 1] = ticket_id
    end
  end
  if sent >= max_requests then
    wrk.thread:stop()
  end
end
