-- DWeb / IPFS: content added under load can be read back by its CID, and the CID is right.
-- Against a Kubo-compatible RPC API (Kubo, js-ipfs: /api/v0/add, /api/v0/cat,
-- /api/v0/dag/export). Each iteration adds a small unique blob as a raw block
-- (cid-version=1, raw-leaves), recomputes its CID here in Lua (CIDv1, raw codec, sha2-256,
-- base32: the helper below), compares it with the node's, and reads the blob back with cat.
-- setup() adds fixtures; verify() checks they are still available after the load, whole, by
-- cat and as a CAR (dag/export), and that no CID the node gave under load was wrong. A broken
-- promise is named on stderr ("broken promise: integrity ...", "... availability ...").
--
-- Run against a local node (Kubo's default RPC port is 5001; loopback only in tests):
--   ipfs daemon --offline &
--   tide run scenarios/dweb.lua --host http://127.0.0.1:5001
-- The e2e test tests/e2e/test_scenarios_dweb.py starts an offline js-ipfs node for it.
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"

local byte, char, format, rep, find = string.byte, string.char, string.format, string.rep,
  string.find
local concat = table.concat

local FIXTURES <const> = 3
local TIMEOUT <const> = 10 -- seconds per RPC call: an offline node may wait for ever on a CID
local BOUNDARY <const> = "tide-dweb-7f3a9c2e"

options = {
  vus = 4,
  duration = "20s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}

local added = metrics.counter("dweb_added")
local wrong_cids = metrics.counter("dweb_wrong_cids")
local lost = metrics.counter("dweb_unreadable")

-- SHA-256 (FIPS 180-4) on Lua 5.4's 64-bit integers, for the small blobs this scenario adds.
local K <const> = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
  0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
  0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
  0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
  0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
}

local function rotr(x, n)
  return ((x >> n) | (x << (32 - n))) & 0xffffffff
end

local function sha256(msg)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
              0x1f83d9ab, 0x5be0cd19 }
  local len = #msg
  msg = msg .. "\128" .. rep("\0", (55 - len) % 64) .. string.pack(">I8", len * 8)
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do w[i] = string.unpack(">I4", msg, chunk + 4 * i) end
    for i = 16, 63 do
      local s0 = rotr(w[i - 15], 7) ~ rotr(w[i - 15], 18) ~ (w[i - 15] >> 3)
      local s1 = rotr(w[i - 2], 17) ~ rotr(w[i - 2], 19) ~ (w[i - 2] >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & 0xffffffff
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for i = 0, 63 do
      local S1 = rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)
      local ch = (e & f) ~ (~e & g)
      local t1 = (hh + S1 + ch + K[i + 1] + w[i]) & 0xffffffff
      local S0 = rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)
      local maj = (a & b) ~ (a & c) ~ (b & c)
      local t2 = (S0 + maj) & 0xffffffff
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & 0xffffffff, c, b, a, (t1 + t2) & 0xffffffff
    end
    h[1], h[2], h[3], h[4] = (h[1] + a) & 0xffffffff, (h[2] + b) & 0xffffffff,
      (h[3] + c) & 0xffffffff, (h[4] + d) & 0xffffffff
    h[5], h[6], h[7], h[8] = (h[5] + e) & 0xffffffff, (h[6] + f) & 0xffffffff,
      (h[7] + g) & 0xffffffff, (h[8] + hh) & 0xffffffff
  end
  return string.pack(">I4I4I4I4I4I4I4I4", table.unpack(h))
end

-- RFC 4648 base32, lower case, no padding (multibase prefix "b").
local function base32(bytes)
  local alphabet, out, bits, value = "abcdefghijklmnopqrstuvwxyz234567", {}, 0, 0
  for i = 1, #bytes do
    value = (value << 8) | byte(bytes, i)
    bits = bits + 8
    while bits >= 5 do
      bits = bits - 5
      local k = (value >> bits) & 31
      out[#out + 1] = alphabet:sub(k + 1, k + 1)
    end
  end
  if bits > 0 then
    local k = (value << (5 - bits)) & 31
    out[#out + 1] = alphabet:sub(k + 1, k + 1)
  end
  return concat(out)
end

-- The CID of a blob stored as one raw block: CIDv1 (0x01), raw codec (0x55), sha2-256
-- multihash (0x12, 32 bytes), in base32 with its multibase prefix "b".
local function raw_cid(blob)
  return "b" .. base32(char(0x01, 0x55, 0x12, 0x20) .. sha256(blob))
end

-- A blob unique to the run, VU and iteration, 64 bytes to a few KiB.
local function blob(run, vu, it)
  local head = format("tide dweb run %s vu %d iteration %d\n", run, vu, it)
  return head .. rep(format("%08x", (vu * 7919 + it * 104729) % 0xffffffff), 8 + (it * 37) % 400)
end

local function add(content)
  local body = concat({
    "--", BOUNDARY, "\r\n",
    'Content-Disposition: form-data; name="file"; filename="blob"\r\n',
    "Content-Type: application/octet-stream\r\n\r\n", content, "\r\n--", BOUNDARY, "--\r\n",
  })
  local res = http.post("/api/v0/add", {
    name = "/api/v0/add", body = body, timeout = TIMEOUT,
    headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. BOUNDARY },
    query = { ["cid-version"] = 1, ["raw-leaves"] = "true", ["cid-base"] = "base32",
              pin = "true" },
  })
  local ok, reply = pcall(res.json)
  return res, ok and type(reply) == "table" and reply.Hash or nil
end

local function cat(cid)
  return http.post("/api/v0/cat", {
    name = "/api/v0/cat", query = { arg = cid }, timeout = TIMEOUT, expect = { 200 },
  })
end

function setup()
  local run = format("%x%04x", os.time(), math.random(0, 0xffff))
  local data = { run = run, fixtures = {} }
  for i = 1, FIXTURES do
    local content = blob(run, 0, i)
    local res, cid = add(content)
    if res.status ~= 200 or cid == nil then
      tide.abort(format("setup: /api/v0/add answered %d: is the host a Kubo-compatible RPC API?",
        res.status))
    end
    data.fixtures[i] = { cid = raw_cid(content), node_cid = cid }
  end
  return data
end

function run(data)
  local content = blob(data.run, tide.vu.id, tide.vu.iteration)
  local expected = raw_cid(content)
  local res, cid = add(content)
  tide.check(res, {
    ["add answers 200 with a CID"] = res.status == 200 and cid ~= nil,
    ["the node's CID is the content's (CIDv1 raw sha2-256)"] = cid == expected,
  })
  if cid == nil then return end
  added:add(1)
  if cid ~= expected then wrong_cids:add(1) end
  local back = cat(expected)
  local whole = back.status == 200 and back.body == content
  if not whole then lost:add(1) end
  tide.check(back, { ["cat returns the content by its CID"] = whole })
  tide.think(0.02, 0.1)
end

function verify(data, summary)
  local broken = {}
  for i, f in ipairs(data.fixtures) do
    local content = blob(data.run, 0, i)
    local back = cat(f.cid)
    local car = http.post("/api/v0/dag/export", {
      name = "/api/v0/dag/export", query = { arg = f.cid }, timeout = TIMEOUT,
    })
    local ok = tide.check(back, {
      ["the node's CID of a fixture is the content's"] = f.node_cid == f.cid,
      ["a fixture is still available after the load (cat)"] =
        back.status == 200 and back.body == content,
      ["a fixture exports as a CAR holding its block"] =
        car.status == 200 and find(car.body, content, 1, true) ~= nil,
    })
    if f.node_cid ~= f.cid then
      broken[#broken + 1] = format("integrity: the node named fixture %d %s, its content is %s", i,
        f.node_cid, f.cid)
    elseif not ok then
      broken[#broken + 1] = format("availability: fixture %s (cat %d, dag/export %d)", f.cid,
        back.status, car.status)
    end
  end
  local m = summary and summary.metrics or {}
  local function count(name) return m[name] and m[name].count or 0 end
  local wrong, unreadable = count("dweb_wrong_cids"), count("dweb_unreadable")
  tide.check(wrong, {
    ["content was added under load"] = count("dweb_added") > 0,
    ["no CID given under load was wrong"] = wrong == 0,
    ["everything added under load read back whole"] = unreadable == 0,
  })
  if wrong > 0 then
    broken[#broken + 1] = format("integrity: %d CIDs given under load were not the content's", wrong)
  end
  if unreadable > 0 then
    broken[#broken + 1] = format("availability: %d blobs added under load did not read back",
      unreadable)
  end
  for _, line in ipairs(broken) do tide.log.error("broken promise: " .. line) end
end
