-- wrk sends pre-built, pre-signed requests from a file (bench/webhook_ack.py writes it): each record
-- is "<length>\n<raw HTTP request>". Thread i of n takes records i, i+n, i+2n, ... in turn and starts
-- over when they run out, counting how often ("wrapped": a body sent a second time is a redelivery).
-- Usage: wrk ... -s wrk_deliveries.lua URL -- FILE THREADS
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
end

function request()
  cursor = cursor + 1
  if cursor > #prepared then
    cursor, wrapped = 1, wrapped + 1
  end
  return prepared[cursor]
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wrapped")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "wrapped": %d}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50), latency:percentile(99), wraps
  ))
end
