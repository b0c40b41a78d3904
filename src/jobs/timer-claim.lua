--[[
  Claim the timers that are due, for one worker: each moves from the due set to the claimed set,
  whose score is when the claim lapses unless its holder renews it, and the claims hash records
  its due time and holder. Claims that lapsed (their process was killed or stalled) are taken
  over first: they are the latest. A timer due again while another worker still runs it stays in
  the due set until that run ends, so one timer does not run twice at once while its claim is
  held. Several processes may
  call this at once; each timer goes to one of them.
  What is due follows the caller's clock, the one its decisions are made with (so a process
  whose clock is behind never claims timers it would then find not yet due); when claims lapse
  follows Redis's clock, which every process shares.

  KEYS[1]  the due set: member "<kind>:<approval id>", score the due time (epoch ms)
  KEYS[2]  the claimed set: same members, score when the claim lapses (Redis time, epoch ms)
  KEYS[3]  the claims hash: member -> "<due time> <holder>", kept while claimed
  ARGV[1]  how long a claim holds without renewal (ms)
  ARGV[2]  the most timers to claim
  ARGV[3]  the caller's clock (epoch ms)
  ARGV[4]  the holder: the claiming worker's id
  Returns  { the next due time still in the due set or false,
             { member, due time, member, due time, ... } }
]]

local rcall = redis.call
local clock = rcall('TIME')
local redisNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lapses = redisNow + tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local callerNow = tonumber(ARGV[3])
local holder = ARGV[4]
local claimed = {}

local lapsed = rcall('ZRANGE', KEYS[2], '-inf', redisNow, 'BYSCORE', 'LIMIT', 0, limit)
for _, member in ipairs(lapsed) do
  local record = rcall('HGET', KEYS[3], member)
  local dueAt = record and string.match(record, '^(%S+)') or tostring(callerNow)
  rcall('ZADD', KEYS[2], lapses, member)
  rcall('HSET', KEYS[3], member, dueAt .. ' ' .. holder)
  claimed[#claimed + 1] = member
  claimed[#claimed + 1] = dueAt
end

local room = limit - #lapsed
if room > 0 then
  local due = rcall('ZRANGE', KEYS[1], '-inf', callerNow, 'BYSCORE', 'LIMIT', 0, room, 'WITHSCORES')
  for i = 1, #due, 2 do
    local member, dueAt = due[i], due[i + 1]
    if not rcall('ZSCORE', KEYS[2], member) then
      rcall('ZREM', KEYS[1], member)
      rcall('ZADD', KEYS[2], lapses, member)
      rcall('HSET', KEYS[3], member, dueAt .. ' ' .. holder)
      claimed[#claimed + 1] = member
      claimed[#claimed + 1] = dueAt
    end
  end
end

local nextDue = rcall('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or false
return { nextDue, claimed }
