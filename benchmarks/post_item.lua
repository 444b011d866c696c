-- POST /api/items with a valid item, as a client of the example endpoint sends it.
wrk.method = "POST"
wrk.body = '{"name": "widget", "quantity": 2}'
wrk.headers["Content-Type"] = "application/json"
