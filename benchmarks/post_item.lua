-- POST /api/items with a valid item, as a client of the example endpoint sends it. Names are
-- unique (the database refuses a taken one): this run's start, the thread, a counter.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  prefix = string.format("w-%d-%d-%d", os.time(), math.floor(os.clock() * 1e6), tid or 0)
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.format('{"name": "%s-%d", "quantity": 2}', prefix, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
