-- memory.sh: VUs that hold no connection: each wakes up once a second and sends nothing, so
-- what is measured is the VU itself (coroutine, _ENV, timers, bookkeeping).
-- Run with --vus N --duration D (a short sleep, so the end of the run waits at most 1 s).
local tide = require "tide"
function run() tide.sleep(1) end
