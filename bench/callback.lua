-- wrk script for bench/api_load.py: POST a callback request; the token and queue come from
-- the environment (DIALBACK_TOKEN, DIALBACK_QUEUE). With DIALBACK_TARGETS="host:port,..." (issue
-- 17: several nodes), thread i sends to target i modulo their number, so running wrk with one
-- thread per target spreads the connections evenly over the nodes; with DIALBACK_QUEUES="q1,..."
-- (several shards), thread i posts to queue i modulo their number (the queue of a shard its
-- node leads).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("DIALBACK_TOKEN")
wrk.body = '{"queueId": "' .. os.getenv("DIALBACK_QUEUE") .. '", "callbackNumbers": ["+14155552671"]}'

local targets = {}
for target in string.gmatch(os.getenv("DIALBACK_TARGETS") or "", "[^,]+") do
  table.insert(targets, target)
end
local queues = {}
for q in string.gmatch(os.getenv("DIALBACK_QUEUES") or "", "[^,]+") do
  table.insert(queues, q)
end
local threads = 0

function setup(thread)
  local i = threads
  threads = threads + 1
  if #targets > 0 then
    local host, port = string.match(targets[i % #targets + 1], "^(.+):(%d+)$")
    thread.addr = wrk.lookup(host, port)[1]
  end
  if #queues > 0 then
    thread:set("queue", queues[i % #queues + 1])
  end
end

function init(args)
  if queue then
    wrk.body = '{"queueId": "' .. queue .. '", "callbackNumbers": ["+14155552671"]}'
  end
end
