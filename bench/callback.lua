-- wrk script for bench/api_load.py: POST a callback request; the token and queue come from
-- the environment (DIALBACK_TOKEN, DIALBACK_QUEUE). With DIALBACK_TARGETS="host:port,..." (issue
-- 17: several nodes), thread i sends to target i modulo their number, so running wrk with one
-- thread per target spreads the connections evenly over the nodes.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("DIALBACK_TOKEN")
wrk.body = '{"queueId": "' .. os.getenv("DIALBACK_QUEUE") .. '", "callbackNumbers": ["+14155552671"]}'

local targets = {}
for target in string.gmatch(os.getenv("DIALBACK_TARGETS") or "", "[^,]+") do
  table.insert(targets, target)
end
local threads = 0

function setup(thread)
  if #targets > 0 then
    local host, port = string.match(targets[threads % #targets + 1], "^(.+):(%d+)$")
    thread.addr = wrk.lookup(host, port)[1]
    threads = threads + 1
  end
end
