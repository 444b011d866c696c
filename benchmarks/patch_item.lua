-- PATCH /api/items/1 with a JSON merge patch, as a client of the example endpoint sends it: no
-- If-Match, so every request changes the item (last writer wins).
function request()
  return wrk.format("PATCH", nil, {["Content-Type"] = "application/merge-patch+json"}, '{"quantity": 3}')
end
