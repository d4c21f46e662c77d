-- wrk script: POST a valid product-create event with a unique uid per request
-- (unique uids, so the idempotency cache never short-circuits a publish).
-- `tid` is a per-thread global set by setup(); it must not be shadowed by a local.
local threads = {}
local counter = 0
local run = tostring(os.time())

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"data":{"uid":"bench-%s-%d-%d","event":"be-observer.catalog_product_create",' ..
    '"value":{"sku":"SKU-%d","name":"Bench product","price":9.99,"description":"benchmark product"}}}',
    run, tid, counter, counter)
  return wrk.format("POST", "/ingestion/webhook", {["Content-Type"] = "application/json"}, body)
end
