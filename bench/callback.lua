-- wrk script for bench/api_load.py: POST a callback request; the token and queue come from
-- the environment (DIALBACK_TOKEN, DIALBACK_QUEUE).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("DIALBACK_TOKEN")
wrk.body = '{"queueId": "' .. os.getenv("DIALBACK_QUEUE") .. '", "callbackNumbers": ["+14155552671"]}'
