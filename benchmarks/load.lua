-- The request mix of benchmarks/load.py for wrk: subscribers of the portal and of the mobile
-- apps, each request made for a random one of the prepared users.
--
--   wrk -t T -c C -d Ds --timeout Ss -s benchmarks/load.lua URL -- USERS_FILE OUT_DIR MIX PERIOD SEED TIMEOUT THINK
--
-- USERS_FILE (written by load.py): a header line "#csrf-cookie<TAB>session-cookie<TAB>password",
-- then a user a line: phone, session key of a portal session, CSRF secret, API access token,
-- accounts "id|payment method|meters" separated by ";", meters "id:base value:decimals"
-- separated by "+" (only meters that take readings). MIX: "kind:weight,kind:weight,…".
-- PERIOD: the month of the bills (YYYY-MM); TIMEOUT: seconds; THINK: mean pause in ms between
-- an answer and the connection's next request (0: at once).
--
-- wrk gives the script no connection a response belongs to, so every request carries its own
-- X-Request-ID, which the proxy passes on and sends back; the response is matched to the kind
-- and start time kept under that id. Each thread writes a line a response to
-- OUT_DIR/samples-<thread>.tsv: kind, status, latency (µs), outcome ("ok" or "error:<why>"),
-- completion time since the start (µs). done() writes OUT_DIR/wrk.json: wrk's own totals and
-- the requests that never got an answer (socket errors), by kind. wrk's own latency figures
-- (its printout, wrk_corrected_latency_us) are not the ones measured: at the end wrk adds
-- made-up samples for every answer slower than the mean interval between requests (its
-- "coordinated omission" correction), which makes its tail heavier than what was measured.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clk_id, load_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local tsbuf = ffi.new("load_timespec[1]")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, tsbuf)
  return tonumber(tsbuf[0].tv_sec) * 1000000 + math.floor(tonumber(tsbuf[0].tv_nsec) / 1000)
end

-- --- the main state: threads, and the totals at the end --------------------------------

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local unanswered, in_flight, unmatched = {}, 0, 0
  local outdir, limit_us = nil, nil
  local now = now_us()
  for _, thread in ipairs(threads) do
    outdir = outdir or thread:get("outdir")
    limit_us = limit_us or thread:get("timeout_us")
    unmatched = unmatched + (thread:get("unmatched") or 0)
    local kinds, starts = thread:get("pend_kind"), thread:get("pend_t0")
    for id, kind in pairs(kinds) do
      -- requests still out when the run stopped are not failures; older ones lost their connection
      if now - starts[id] > limit_us then
        unanswered[kind] = (unanswered[kind] or 0) + 1
      else
        in_flight = in_flight + 1
      end
    end
  end
  local parts = {}
  for kind, n in pairs(unanswered) do
    table.insert(parts, json_string(kind) .. ":" .. n)
  end
  local e = summary.errors
  local out = assert(io.open(outdir .. "/wrk.json", "w"))
  out:write(string.format(
    '{"duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"unanswered":{%s},"in_flight":%d,"unmatched":%d,' ..
      '"wrk_corrected_latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ","), in_flight, unmatched,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
  out:close()
end

-- --- a thread's state -------------------------------------------------------------------

local users = {}          -- {phone, session, csrf, token, accounts = {{id, method, meters = {{id, base, decimals}}}}}
local with_meters = {}    -- {user, account}: accounts that take readings
local csrf_cookie, session_cookie, password = "csrftoken", "sessionid", ""
local kinds, cumulative, total_weight = {}, {}, 0
local period = ""
local think_ms = 0
local out = nil
local t_origin = 0
local seq = 0
pend_kind, pend_t0 = {}, {}  -- globals: read by done() through thread:get
unmatched = 0

local function split(s, sep)
  local fields = {}
  for field in (s .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do
    table.insert(fields, field)
  end
  return fields
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function form(fields)
  local parts = {}
  for _, pair in ipairs(fields) do
    table.insert(parts, urlencode(pair[1]) .. "=" .. urlencode(pair[2]))
  end
  return table.concat(parts, "&")
end

local function load_users(path)
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if line:sub(1, 1) == "#" then
      local head = split(line:sub(2), "\t")
      csrf_cookie, session_cookie, password = head[1], head[2], head[3]
    elseif line ~= "" then
      local f = split(line, "\t")
      local user = { phone = f[1], session = f[2], csrf = f[3], token = f[4], accounts = {} }
      for _, spec in ipairs(split(f[5], ";")) do
        local a = split(spec, "|")
        local account = { id = a[1], method = a[2], meters = {} }
        if a[3] ~= "" then
          for _, m in ipairs(split(a[3], "+")) do
            local mf = split(m, ":")
            table.insert(account.meters, { id = mf[1], base = tonumber(mf[2]), decimals = tonumber(mf[3]) })
          end
        end
        table.insert(user.accounts, account)
        if #account.meters > 0 then
          table.insert(with_meters, { user = user, account = account })
        end
      end
      -- each subscriber comes from an address of its own (a mobile operator's CGNAT range),
      -- sent as X-Forwarded-For: nginx appends its client, the app (TRUSTED_PROXIES) reads it
      local n = #users
      user.addr = string.format("100.%d.%d.%d", 64 + math.floor(n / 65536) % 64, math.floor(n / 256) % 256, n % 256)
      table.insert(users, user)
    end
  end
  file:close()
  assert(#users > 0, "no users in " .. path)
end

function init(args)
  outdir = args[2]
  timeout_us = tonumber(args[6]) * 1000000
  load_users(args[1])
  for _, spec in ipairs(split(args[3], ",")) do
    local kv = split(spec, ":")
    total_weight = total_weight + tonumber(kv[2])
    table.insert(kinds, kv[1])
    table.insert(cumulative, total_weight)
  end
  period = args[4]
  think_ms = tonumber(args[7] or "0")
  math.randomseed(tonumber(args[5]) * 1000 + tid)
  out = assert(io.open(outdir .. "/samples-" .. tid .. ".tsv", "w"))
  out:setvbuf("line")
  t_origin = now_us()
end

-- --- the requests -------------------------------------------------------------------------

local function pick(list)
  return list[math.random(#list)]
end

local function web_headers(user, extra)
  local h = {
    ["Cookie"] = session_cookie .. "=" .. user.session .. "; " .. csrf_cookie .. "=" .. user.csrf,
    ["User-Agent"] = "Mozilla/5.0 (Linux; Android 14) load",
    ["Accept-Language"] = "ru",
    ["X-Forwarded-For"] = user.addr,
  }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function api_headers(user, body)
  local h = {
    ["Authorization"] = "Bearer " .. user.token,
    ["User-Agent"] = "abonent-android/3.2 load",
    ["Accept"] = "application/json",
    ["X-Forwarded-For"] = user.addr,
  }
  if body then h["Content-Type"] = "application/json" end
  return h
end

local FORM = "application/x-www-form-urlencoded"

-- a value above the reading the period's is measured from: a month's use of 1–50 m³
local function reading_value(meter, comma)
  local value = meter.base + math.random(1, 50) + math.random()
  local text = string.format("%." .. meter.decimals .. "f", value)
  if comma then text = text:gsub("%.", ",") end
  return text
end

local function user_account()
  local user = pick(users)
  return user, pick(user.accounts)
end

local build = {
  login_form = function()
    return "GET", "/login/", { ["User-Agent"] = "Mozilla/5.0 (Linux; Android 14) load", ["Accept-Language"] = "ru" }
  end,
  login = function()
    local user = pick(users)
    local body = form({ { "csrfmiddlewaretoken", user.csrf }, { "login", user.phone },
      { "password", password }, { "remember", "on" } })
    return "POST", "/login/", {
      ["Cookie"] = csrf_cookie .. "=" .. user.csrf, ["Content-Type"] = FORM,
      ["User-Agent"] = "Mozilla/5.0 (Linux; Android 14) load", ["Accept-Language"] = "ru",
      ["X-Forwarded-For"] = user.addr,
    }, body
  end,
  home = function()
    local user = pick(users)
    return "GET", "/home/", web_headers(user)
  end,
  account = function()
    local user, account = user_account()
    return "GET", "/accounts/" .. account.id .. "/", web_headers(user)
  end,
  charges = function()
    local user, account = user_account()
    return "GET", "/accounts/" .. account.id .. "/charges/", web_headers(user)
  end,
  readings = function()
    local user, account = user_account()
    return "GET", "/accounts/" .. account.id .. "/readings/", web_headers(user)
  end,
  reading_submit = function()
    local pair = pick(with_meters)
    local fields = { { "csrfmiddlewaretoken", pair.user.csrf } }
    for _, meter in ipairs(pair.account.meters) do
      table.insert(fields, { "meter_" .. meter.id, reading_value(meter, true) })
    end
    return "POST", "/accounts/" .. pair.account.id .. "/readings/",
      web_headers(pair.user, { ["Content-Type"] = FORM }), form(fields)
  end,
  payments = function()
    local user, account = user_account()
    return "GET", "/accounts/" .. account.id .. "/payments/", web_headers(user)
  end,
  pay_page = function()
    local user, account = user_account()
    return "GET", "/payments/new/?account=" .. account.id, web_headers(user)
  end,
  pay_start = function()
    local user, account = user_account()
    local body = form({
      { "csrfmiddlewaretoken", user.csrf }, { "account_" .. account.id, "on" },
      { "amount_" .. account.id .. "_gas", string.format("%d,%02d", math.random(300, 4000), math.random(0, 99)) },
      { "method", account.method }, { "receipt", user.phone },
    })
    return "POST", "/payments/new/", web_headers(user, { ["Content-Type"] = FORM }), body
  end,
  bill_pdf = function()
    local user, account = user_account()
    return "GET", "/accounts/" .. account.id .. "/bills/" .. period .. ".pdf", web_headers(user)
  end,
  api_login = function()
    local user = pick(users)
    local body = string.format('{"login":"%s","password":"%s","device_name":"load"}', user.phone, password)
    return "POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json",
      ["User-Agent"] = "abonent-android/3.2 load", ["Accept"] = "application/json",
      ["X-Forwarded-For"] = user.addr }, body
  end,
  api_accounts = function()
    local user = pick(users)
    return "GET", "/api/v1/accounts", api_headers(user)
  end,
  api_account = function()
    local user, account = user_account()
    return "GET", "/api/v1/accounts/" .. account.id, api_headers(user)
  end,
  api_balance = function()
    local user, account = user_account()
    return "GET", "/api/v1/accounts/" .. account.id .. "/balance", api_headers(user)
  end,
  api_readings = function()
    local user, account = user_account()
    return "GET", "/api/v1/accounts/" .. account.id .. "/readings/current", api_headers(user)
  end,
  api_reading_submit = function()
    local pair = pick(with_meters)
    local meter = pick(pair.account.meters)
    local body = string.format('{"value":"%s"}', reading_value(meter, false))
    return "POST", "/api/v1/accounts/" .. pair.account.id .. "/meters/" .. meter.id .. "/readings",
      api_headers(pair.user, true), body
  end,
}

-- what each kind must answer; anything else is an error, named by what came instead
local function status_is(...)
  local wanted = { ... }
  return function(status)
    for _, s in ipairs(wanted) do
      if status == s then return "ok" end
    end
    return "error:" .. status
  end
end

local function redirect_to(fragment)
  return function(status, headers)
    if status ~= 302 then return "error:" .. status end
    local location = headers["Location"] or headers["location"] or ""
    if location:find(fragment, 1, true) then return "ok" end
    return "error:302 to " .. location:gsub("%?.*", "")
  end
end

local check = {
  login_form = status_is(200),
  login = redirect_to("/home/"),  -- 200 is the form again: the login was refused
  home = redirect_to("/accounts/"),  -- the default account, or the list
  account = status_is(200),
  charges = status_is(200),
  readings = status_is(200),
  reading_submit = redirect_to("/readings/sent/"),  -- 200 is the form again, with the errors
  payments = status_is(200),
  pay_page = status_is(200),
  pay_start = redirect_to("/sandbox/pay/"),
  bill_pdf = function(status, headers)
    if status ~= 200 then return "error:" .. status end
    if (headers["Content-Type"] or ""):find("application/pdf", 1, true) then return "ok" end
    return "error:not a PDF"
  end,
  api_login = status_is(200),
  api_accounts = status_is(200),
  api_account = status_is(200),
  api_balance = status_is(200),
  api_readings = status_is(200),
  api_reading_submit = status_is(201, 200),  -- 200: the same value was sent for the period before
}

local verified = false

function request()
  if tid == 1 and not verified then
    -- wrk calls the first thread's request() once before the run, to see whether it makes
    -- one request or a pipeline, and sends nothing of it: that call is not a request
    verified = true
    return wrk.format("GET", "/healthz", {})
  end
  local r = math.random() * total_weight
  local kind = kinds[#kinds]
  for i, edge in ipairs(cumulative) do
    if r < edge then
      kind = kinds[i]
      break
    end
  end
  local method, path, headers, body = build[kind]()
  seq = seq + 1
  local id = string.format("load%02d-%010d", tid, seq)
  headers["X-Request-ID"] = id
  pend_kind[id] = kind
  pend_t0[id] = now_us()
  return wrk.format(method, path, headers, body)
end

-- with --think, a connection is a person who reads the page before the next click: a pause
-- drawn from an exponential distribution of that mean (wrk waits it before calling request())
function delay()
  if think_ms <= 0 then return 0 end
  return math.floor(-think_ms * math.log(1 - math.random()))
end

function response(status, headers, body)
  local t1 = now_us()
  local id = headers["X-Request-ID"] or headers["X-Request-Id"]
  local kind = id and pend_kind[id]
  if not kind then
    unmatched = unmatched + 1
    return
  end
  local latency = t1 - pend_t0[id]
  pend_kind[id], pend_t0[id] = nil, nil
  local outcome = check[kind](status, headers, body)
  out:write(kind, "\t", status, "\t", latency, "\t", outcome, "\t", t1 - t_origin, "\n")
end
