-- The e-commerce checkout journey of the shop_checkout pack: each VU logs in once, then each
-- iteration buys 1-3 units of a product from products.csv. The pack adds the checks, metrics,
-- thresholds and the verify() step (plugin.lua).
--   tide run plugins/shop_checkout/scenario.lua --target
local tide = require "tide"
local data = require "tide.data"

local products = data.csv("products.csv")

options = {
  vus = 3,
  duration = "10s",
  plugins = { shop_checkout = { tenant = "shop" } },
}

local headers
function vu_setup() headers = tide.plugins.get("shop_checkout").login() end

function run()
  if not headers then tide.fail("not logged in") end
  local p = products[(tide.vu.id + tide.vu.iteration) % #products + 1]
  tide.plugins.get("shop_checkout").checkout(headers, p, tide.vu.iteration % 3 + 1)
  tide.sleep(0.1)
end
