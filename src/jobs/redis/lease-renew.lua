--[[
  Renew a lease, only while it is still this holder's (compare and expire): a holder that lost
  it must never extend the next holder's.

  KEYS[1]  the lease key
  ARGV[1]  the holder's id
  ARGV[2]  time to live in ms
  Returns  1 when renewed, 0 when the lease is gone or someone else's
]]

if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
