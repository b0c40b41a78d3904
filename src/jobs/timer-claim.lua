--[[
  Claim the timers that are due, for one worker of one process: each moves from the due set to
  the claimed set, whose score is when the claim lapses unless the worker renews it. Claims that
  lapsed (their process was killed or stalled) are taken over first: they are the latest. Several
  processes may call this at once; each timer goes to one of them. Time is Redis's own clock, so
  processes whose clocks disagree still agree on what is due.

  KEYS[1]  the due set: member "<kind>:<approval id>", score the due time (epoch ms)
  KEYS[2]  the claimed set: same members, score when the claim lapses (epoch ms)
  KEYS[3]  the claims hash: member -> its due time, kept while claimed (to measure lateness)
  ARGV[1]  how long a claim holds without renewal (ms)
  ARGV[2]  the most timers to claim
  Returns  { Redis time (ms), the next due time still in the due set or false,
             { member, due time, member, due time, ... } }
]]

local rcall = redis.call
local clock = rcall('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lapses = now + tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local claimed = {}

local lapsed = rcall('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
for _, member in ipairs(lapsed) do
  rcall('ZADD', KEYS[2], lapses, member)
  claimed[#claimed + 1] = member
  claimed[#claimed + 1] = rcall('HGET', KEYS[3], member) or tostring(now)
end

local room = limit - #lapsed
if room > 0 then
  local due = rcall('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, room, 'WITHSCORES')
  for i = 1, #due, 2 do
    local member, dueAt = due[i], due[i + 1]
    rcall('ZREM', KEYS[1], member)
    rcall('ZADD', KEYS[2], lapses, member)
    rcall('HSET', KEYS[3], member, dueAt)
    claimed[#claimed + 1] = member
    claimed[#claimed + 1] = dueAt
  end
end

local nextDue = rcall('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or false
return { now, nextDue, claimed }
