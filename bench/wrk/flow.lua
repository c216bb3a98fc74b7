-- flow.sh: wrk's Lua hooks for the 2-step flow. request() alternates the POST (login) and the
-- GET (item); response() checks each GET answer, as the other tools do. wrk cannot carry the
-- token from one answer to the next request, so the GET sends a fixed token; and since one
-- thread's connections share request(), the check accepts either of the two answers.
local post, get
local n = 0

-- built in init(), once wrk has set the Host header (a request formatted at load time has none)
init = function(args)
  post = wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" },
                    '{"user":"alice","password":"secret"}')
  get = wrk.format("GET", "/api/items/1", { ["Authorization"] = "Bearer t0k3n-42" })
end
failures = 0 -- a global, so done() can read it from each thread

request = function()
  n = n + 1
  return (n % 2 == 1) and post or get
end

response = function(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  elseif body:find('"id":1', 1, true) == nil and body:find('"token"', 1, true) == nil then
    failures = failures + 1
  end
end

local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function()
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("failures") or 0) end
  io.write(string.format("check_failures: %d\n", total))
end
