-- wrk script: POST the JSON-RPC body read from the file named by $BODY_FILE,
-- and nothing else (no response callback, which would cost wrk a Lua call per
-- answer): wrk at its fastest, the yardstick of bench/loopback/vs-wrk.sh.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
