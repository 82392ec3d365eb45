-- wrk script: POST the JSON-RPC body read from the file named by $BODY_FILE.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()

-- Count answers that are not HTTP 200, so a broken run cannot pass for a fast one.
local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("non200=%d\n", bad))
end
