-- wrk sends pre-built, pre-signed requests from a file (bench/wrk.py writes it): each record is
-- "<length>\n<raw HTTP request>". Thread i of n takes records i, i+n, i+2n, ... in turn and starts
-- over when they run out, counting how often ("wrapped": a request sent a second time).
-- With COUNTED, every answer is read: one not 200 or not starting with START is an error (wrk alone
-- counts only statuses above 399), and the occurrences of COUNTED in the answers are added up. Without
-- it wrk reads no answer into Lua, which costs it less.
-- done() prints one line of JSON with the figures from wrk's latency object, in microseconds.
-- Usage: wrk ... -s wrk_requests.lua URL -- FILE THREADS [COUNTED START]
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local count = tonumber(args[2])
  prepared, cursor, wrapped = {}, 0, 0
  local position, index = 1, 0
  while position <= #data do
    local newline = data:find("\n", position, true)
    local length = tonumber(data:sub(position, newline - 1))
    if index % count == id then
      prepared[#prepared + 1] = data:sub(newline + 1, newline + length)
    end
    index = index + 1
    position = newline + length + 1
  end
  if args[3] then
    local counted_text, start = args[3], args[4]
    counted, refused = 0, 0
    -- Defined here, not at the top: wrk reads answers into Lua only when the script has response().
    function response(status, headers, body)
      if status ~= 200 or body:sub(1, #start) ~= start then
        refused = refused + 1
      end
      local at = body:find(counted_text, 1, true)
      while at do
        counted = counted + 1
        at = body:find(counted_text, at + #counted_text, true)
      end
    end
  end
end

function request()
  cursor = cursor + 1
  if cursor > #prepared then
    cursor, wrapped = 1, wrapped + 1
  end
  return prepared[cursor]
end

function done(summary, latency, requests)
  local wraps, counted_total, refused_total, checked = 0, 0, 0, false
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wrapped")
    if thread:get("counted") then
      checked = true
      counted_total = counted_total + thread:get("counted")
      refused_total = refused_total + thread:get("refused")
    end
  end
  local errors = summary.errors
  local failed = errors.connect + errors.read + errors.write + errors.timeout
  failed = failed + (checked and refused_total or errors.status)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "wrapped": %d, "counted": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, failed, wraps, counted_total,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)
  ))
end
