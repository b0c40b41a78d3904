--[[
  Give a lease up, only while it is still this holder's (compare and delete), so the next holder
  can take it at once instead of waiting for it to expire.

  KEYS[1]  the lease key
  ARGV[1]  the holder's id
  Returns  1 when deleted, 0 when the lease was gone or someone else's
]]

if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
