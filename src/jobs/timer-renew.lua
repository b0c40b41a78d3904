--[[
  Keep a worker's claims from lapsing while it still runs them: only claims it still holds (one
  already settled, or taken over by another worker after it lapsed, is left alone).

  KEYS[1]  the claimed set
  KEYS[2]  the claims hash: member -> "<due time> <holder>"
  ARGV[1]  how long a claim holds without renewal (ms)
  ARGV[2]  the holder: the renewing worker's id
  ARGV[3…] the members this worker is running
  Returns  how many claims were renewed
]]

local clock = redis.call('TIME')
local lapses = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + tonumber(ARGV[1])
local renewed = 0
for i = 3, #ARGV do
  local record = redis.call('HGET', KEYS[2], ARGV[i])
  if record and string.match(record, '%S+$') == ARGV[2] then
    redis.call('ZADD', KEYS[1], 'XX', lapses, ARGV[i])
    renewed = renewed + 1
  end
end
return renewed
