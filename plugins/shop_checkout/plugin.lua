--- shop_checkout: a sector pack for e-commerce teams: the checkout journey (log in, browse,
-- place an order, read it back) as functions a scenario calls, the business checks of each
-- step, order metrics (shop_orders, shop_revenue_cents, shop_checkout_ms), thresholds on them,
-- and a verify() step that checks the server's state against what the load did: every order
-- placed is stored exactly once, each with a consistent total. It runs against tide's
-- built-in API (an order is a project of the shop's tenant: name "order-...", the basket as
-- JSON in its description); scenario.lua beside this file is the journey, products.csv its
-- catalogue. See docs/extending.md#shop_checkout.
local http = require "tide.http"
local tide = require "tide"
local json = tide.json

local function decode(res)
  local ok, v = pcall(json.decode, res.body or "")
  return ok and v or nil
end

return {
  name = "shop_checkout",
  version = "1.0.0",
  options = {
    tenant = { type = "string", default = "shop" },
    user = { type = "string", default = "demo" },
    password_env = { type = "string", default = "SHOP_PASSWORD" },
    max_checkout_ms = { type = "number", default = 2000 },
  },
  setup = function(opts, api)
    local orders = api.metrics.counter("shop_orders")
    local revenue = api.metrics.counter("shop_revenue_cents")
    local checkout_ms = api.metrics.trend("shop_checkout_ms", true)
    api.threshold("shop_checkout_ms", "p(95)<" .. opts.max_checkout_ms)
    api.threshold("checks{step:confirm}", "rate>0.99")

    local shop = {}

    function shop.login()
      local res = http.post("/api/auth/login", { name = "/api/auth/login", json = {
        username = opts.user, password = api.env(opts.password_env) or "demo" } })
      local body = decode(res)
      if not api.check(res, { ["login answers 200"] = res.status == 200 }, { step = "login" })
        or not body then return nil end
      return { Authorization = "Bearer " .. body.token, ["X-Tenant-ID"] = opts.tenant }
    end

    --- One checkout: a basket of `qty` × `product` ({ sku, price_cents }); returns the order.
    function shop.checkout(headers, product, qty)
      local started = tide.vu.id .. "-" .. tide.vu.iteration
      local search = http.get("/api/search?q=" .. product.sku .. "&limit=5",
        { headers = headers, name = "/api/search" })
      api.check(search, { ["browse answers 200"] = search.status == 200 }, { step = "browse" })
      local price = tonumber(product.price_cents)
      local basket = { sku = product.sku, qty = qty, unit_cents = price, total_cents = price * qty }
      local name = "order-" .. started .. "-" .. product.sku
      local res = http.post("/api/projects", { headers = headers, name = "/api/projects",
        json = { name = name, description = json.encode(basket) } })
      local order = decode(res)
      if not api.check(res, { ["order accepted (201)"] = res.status == 201 },
        { step = "checkout" }) or not order then return nil end
      local back = http.get("/api/projects/" .. order.id, { headers = headers,
        name = "/api/projects/{id}" })
      local stored = decode(back)
      local got = stored and decode({ body = stored.description }) or {}
      api.check(back, {
        ["order readable"] = back.status == 200,
        ["order total consistent"] = type(got.total_cents) == "number" and
          got.total_cents == (got.unit_cents or 0) * (got.qty or 0) and
          got.total_cents == basket.total_cents,
      }, { step = "confirm" })
      orders:add(1)
      revenue:add(basket.total_cents)
      -- the journey's time as the user waits for it: its three requests
      checkout_ms:add(search.timings.duration + res.timings.duration + back.timings.duration)
      return order
    end

    -- After the load: the shop's tenant holds exactly the orders placed, each consistent.
    api.verify(function(_, summary)
      local headers = shop.login()
      if not headers then return end
      local placed = summary.metrics.shop_orders and summary.metrics.shop_orders.count or 0
      local res = http.get("/api/search?q=order-&limit=100", { headers = headers,
        name = "/api/search" })
      local body = decode(res) or {}
      api.check(body, { ["every order placed is stored once"] = body.total == placed })
      local bad = 0
      for _, item in ipairs(body.items or {}) do
        local b = decode({ body = item.description }) or {}
        if b.total_cents ~= (b.unit_cents or 0) * (b.qty or 0) then bad = bad + 1 end
      end
      api.check(bad, { ["stored orders have consistent totals"] = bad == 0 })
    end)

    api.summary("Checkout", function(s)
      local m = s.metrics or {}
      local n = m.shop_orders and m.shop_orders.count or 0
      local cents = m.shop_revenue_cents and m.shop_revenue_cents.count or 0
      return {
        { "orders placed", n },
        { "revenue", string.format("%.2f", cents / 100) },
        { "average basket", n > 0 and string.format("%.2f", cents / 100 / n) or "-" },
      }
    end)
    return shop
  end,
}
