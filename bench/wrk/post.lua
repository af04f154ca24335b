-- wrk script: POST a max-size portfolio with a unique name and a fresh caiso-request-id per request.
-- env: BODY_TEMPLATE (file holding @NAME@), ONE request id random per request.
local f = assert(io.open(os.getenv("BODY_TEMPLATE"), "rb"))
local tmpl = f:read("*a"); f:close()
local s, e = string.find(tmpl, "@NAME@", 1, true)
local prefix, suffix = string.sub(tmpl, 1, s - 1), string.sub(tmpl, e + 1)
local counter = 0
math.randomseed(os.time())
local function uuid()
  return string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0x7fffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff), math.random(0, 0x7fffffff) * 4096 + math.random(0, 4095))
end
local nthreads = 0
setup = function(thread) nthreads = nthreads + 1; thread:set("tid", nthreads) end
init = function(args) math.randomseed(os.time() + (tid or 0) * 7919) end
request = function()
  counter = counter + 1
  local body = prefix .. "wrk " .. (tid or 0) .. "-" .. os.time() .. "-" .. counter .. suffix
  return wrk.format("POST", nil, {["caiso-request-id"] = uuid(), ["Content-Type"] = "application/json"}, body)
end
