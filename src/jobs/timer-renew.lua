--[[
  Keep a worker's claims from lapsing while it still runs them (only claims that still exist:
  one already settled is not brought back).

  KEYS[1]  the claimed set
  ARGV[1]  how long a claim holds without renewal (ms)
  ARGV[2…] the members this worker is running
  Returns  how many claims were renewed
]]

local clock = redis.call('TIME')
local lapses = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', lapses, ARGV[i])
end
return renewed
