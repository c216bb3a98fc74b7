-- throughput.sh: the same GET loop, with the body copied into a Lua string (res.body).
local http = require "tide.http"
local tide = require "tide"
local path = tide.env("PATH_", "/")
function run()
  http.get(path)
end
