-- wrk script: POST valid product-update events with a unique uid per request,
-- spread over KEYS products (env, default 200), so that events of one product
-- reach the journal one after the other and per-product order can be checked
-- at the back office. `tid` is a per-thread global set by setup().
local threads = {}
local counter = 0
local run = tostring(os.time())
local keys = tonumber(os.getenv("KEYS") or "200")

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"data":{"uid":"bench-%s-%d-%d","event":"be-observer.catalog_product_update",' ..
    '"value":{"sku":"SKU-%d","name":"Bench product","price":%d,"description":"benchmark product"}}}',
    run, tid, counter, (counter * 7 + tid) % keys, counter)
  return wrk.format("POST", "/ingestion/webhook", {["Content-Type"] = "application/json"}, body)
end
