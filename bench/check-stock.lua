-- wrk script: POST a 3-item cart to check-stock (all in stock in the demo inventory).
wrk.method = "POST"
wrk.path = "/webhook/check-stock"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"data":{"cart_id":"42","items":[' ..
  '{"item_id":1,"sku":"24-MB01","qty":"2.0000"},' ..
  '{"item_id":2,"sku":"24-MB04","qty":"1.0000"},' ..
  '{"item_id":3,"sku":"24-WB02","qty":"1.0000"}]}}'
