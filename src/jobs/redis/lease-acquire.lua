--[[
  Take a lease: a free one is set with the holder's id and a time to live; a lease this holder
  already has (an earlier attempt whose answer it stopped waiting for) is extended, not refused.

  KEYS[1]  the lease key
  ARGV[1]  the holder's id (random per process)
  ARGV[2]  time to live in ms
  Returns  1 when the holder has the lease, 0 when someone else does
]]

if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
