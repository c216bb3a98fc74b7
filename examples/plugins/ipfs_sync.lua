--- ipfs_sync: when the report is written, adds the run folder to an IPFS node through the
-- Kubo RPC (POST /api/v0/add, multipart, CIDv1, raw leaves, wrapped in a directory named
-- after the run) and prints the folder's CID. It reads the folder with tide.run_files (read
-- only, nothing outside the run folder) and sends it with tide.http: no shell, no other file.
--   tide run scenarios/smoke.lua --plugin examples/plugins/ipfs_sync.lua
--   with options = { plugins = { ipfs_sync = { api = "http://127.0.0.1:5001" } } }
-- Content on IPFS cannot be recalled: add only what you may publish (docs/extending.md).
local http = require "tide.http"
local tide = require "tide"

local function multipart(dirname, files)
  local boundary = "tide-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e9))
  local parts, dirs = {}, {}
  local function dir_part(d) -- Kubo wants each folder as its own part, before its files
    if dirs[d] then return end
    local parent = d:match("^(.*)/[^/]+$")
    if parent then dir_part(parent) end
    dirs[d] = true
    parts[#parts + 1] = "--" .. boundary .. "\r\n" ..
      'Content-Disposition: form-data; name="file"; filename="' .. d ..
      '"\r\nContent-Type: application/x-directory\r\n\r\n\r\n'
  end
  dir_part(dirname)
  for _, f in ipairs(files) do
    local sub = f.name:match("^(.*)/[^/]+$")
    if sub then dir_part(dirname .. "/" .. sub) end
    local bytes = tide.run_files.read(f.name)
    parts[#parts + 1] = "--" .. boundary .. "\r\n" ..
      'Content-Disposition: form-data; name="file"; filename="' .. dirname .. "/" .. f.name ..
      '"\r\nContent-Type: application/octet-stream\r\n\r\n' .. bytes .. "\r\n"
  end
  parts[#parts + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(parts), boundary
end

return {
  name = "ipfs_sync",
  version = "1.0.0",
  options = {
    api = { type = "string", default = "http://127.0.0.1:5001" },
    pin = { type = "boolean", default = true },
    required = { type = "boolean", default = false },
    timeout = { type = "number", default = 60 },
  },
  setup = function(opts, api)
    api.hooks.on("report_written", function(info)
      local body, boundary = multipart(info.id, info.files)
      local url = opts.api .. "/api/v0/add?cid-version=1&raw-leaves=true&wrap-with-directory=false" ..
        "&pin=" .. tostring(opts.pin) .. "&progress=false"
      local res = http.post(url, body, { headers = {
        ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, timeout = opts.timeout })
      if res.status ~= 200 then error("ipfs_sync: the node answered " .. tostring(res.status)) end
      -- one JSON object per line: { Name, Hash, Size }; the folder's is the one named info.id
      local root
      for line in res.body:gmatch("[^\n]+") do
        local ok, o = pcall(tide.json.decode, line)
        if ok and type(o) == "table" and o.Name == info.id then root = o.Hash end
      end
      if not root then error("ipfs_sync: no CID for the folder in the node's answer") end
      tide.log.info("ipfs_sync: run folder " .. info.id .. " added as " .. root)
      return true
    end, { required = opts.required, name = "ipfs_sync" })
  end,
}
