--[[
  What became of claimed timers, for many at once. Only the claim's holder settles it: a worker
  whose claim lapsed and was taken over leaves the timer to the new holder. Each settled claim
  ends, and the timer is
    done   it took effect (or had nothing left to do)
    later  it came early (its window moved): due again at the given time
    retry  a passing failure: due again after a delay that doubles each attempt, at most the
           longest delay apart; it is tried until it succeeds (or its approval is decided)
    failed it can never succeed (its approval is gone): kept in the failed hash with the reason
           (at most 1,000: when full, a random one is dropped)
  A retry never moves a timer that was scheduled again meanwhile (ZADD NX). The new state is
  written before the claim is removed.

  KEYS[1]  the due set
  KEYS[2]  the claimed set
  KEYS[3]  the claims hash: member -> "<due time> <holder>"
  KEYS[4]  the attempts hash: member -> failed attempts so far
  KEYS[5]  the failed hash: member -> why it failed for good
  ARGV[1]  the first retry's delay (ms)
  ARGV[2]  the longest retry delay (ms)
  ARGV[3]  the holder: the settling worker's id
  ARGV[4…] triples: member, outcome (done, later, retry, failed), then the due time (later) or
           the reason (retry, failed)
  Returns  how many claims were settled (the others had passed to another holder)
]]

local rcall = redis.call
local clock = rcall('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local firstDelay = tonumber(ARGV[1])
local longestDelay = tonumber(ARGV[2])
local holder = ARGV[3]
local settled = 0

for i = 4, #ARGV, 3 do
  local member, outcome, detail = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local record = rcall('HGET', KEYS[3], member)
  if record and string.match(record, '%S+$') == holder then
    if outcome == 'later' then
      rcall('ZADD', KEYS[1], tonumber(detail), member)
      rcall('HDEL', KEYS[4], member)
    elseif outcome == 'retry' then
      local attempts = rcall('HINCRBY', KEYS[4], member, 1)
      local delay = math.min(longestDelay, firstDelay * 2 ^ math.min(attempts - 1, 30))
      rcall('ZADD', KEYS[1], 'NX', now + delay, member)
    elseif outcome == 'failed' then
      if rcall('HLEN', KEYS[5]) >= 1000 then
        rcall('HDEL', KEYS[5], rcall('HRANDFIELD', KEYS[5]))
      end
      rcall('HSET', KEYS[5], member, detail)
      rcall('HDEL', KEYS[4], member)
    else
      rcall('HDEL', KEYS[4], member)
    end
    rcall('ZREM', KEYS[2], member)
    rcall('HDEL', KEYS[3], member)
    settled = settled + 1
  end
end
return settled
