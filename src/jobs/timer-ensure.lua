--[[
  Make sure each of a page of timers exists: one that is neither due nor claimed (Redis lost it,
  or it failed for good) is added at its due time; one that is there is left alone, so a timer
  that moved since PostgreSQL was read keeps its newer time. One call checks a whole page.

  KEYS[1]  the due set
  KEYS[2]  the claimed set
  KEYS[3]  the failed hash (a timer added again is no longer failed)
  ARGV     pairs: member, due time (epoch ms)
  Returns  how many timers were added
]]

local rcall = redis.call
local added = 0
for i = 1, #ARGV, 2 do
  local member = ARGV[i]
  if not rcall('ZSCORE', KEYS[1], member) and not rcall('ZSCORE', KEYS[2], member) then
    rcall('ZADD', KEYS[1], tonumber(ARGV[i + 1]), member)
    rcall('HDEL', KEYS[3], member)
    added = added + 1
  end
end
return added
