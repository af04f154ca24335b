-- wrk script: GET wrk.path with a fresh caiso-request-id per request.
math.randomseed(os.time())
request = function()
  local id = string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0x7fffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff), math.random(0, 0x7fffffff) * 4096 + math.random(0, 4095))
  return wrk.format(nil, nil, {["caiso-request-id"] = id})
end
