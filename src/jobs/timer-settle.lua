--[[
  What became of claimed timers, for many at once: each claim ends, and the timer is done, runs
  again later, is retried with backoff, or fails for good.
    done   it took effect (or had nothing left to do)
    later  it came early (its window moved): due again at the given time
    retry  a passing failure: due again after a backoff that doubles each attempt; past the
           attempt limit it fails for good (the periodic reconcile re-creates it from PostgreSQL)
    failed it can never succeed (its approval is gone): kept in the failed hash with the reason
  A retry never moves a timer that was scheduled again meanwhile (ZADD NX).

  KEYS[1]  the due set
  KEYS[2]  the claimed set
  KEYS[3]  the claims hash
  KEYS[4]  the attempts hash: member -> failed attempts so far
  KEYS[5]  the failed hash: member -> why it failed for good
  ARGV[1]  the first retry's delay (ms)
  ARGV[2]  the most attempts
  ARGV[3…] triples: member, outcome (done, later, retry, failed), then the due time (later) or
           the reason (retry, failed)
  Returns  how many timers failed for good in this call
]]

local rcall = redis.call
local clock = rcall('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local firstDelay = tonumber(ARGV[1])
local maxAttempts = tonumber(ARGV[2])
local failedForGood = 0

for i = 3, #ARGV, 3 do
  local member, outcome, detail = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  rcall('ZREM', KEYS[2], member)
  rcall('HDEL', KEYS[3], member)
  if outcome == 'later' then
    rcall('HDEL', KEYS[4], member)
    rcall('ZADD', KEYS[1], tonumber(detail), member)
  elseif outcome == 'retry' then
    local attempts = rcall('HINCRBY', KEYS[4], member, 1)
    if attempts >= maxAttempts then
      rcall('HDEL', KEYS[4], member)
      rcall('HSET', KEYS[5], member, detail)
      failedForGood = failedForGood + 1
    else
      rcall('ZADD', KEYS[1], 'NX', now + firstDelay * 2 ^ (attempts - 1), member)
    end
  elseif outcome == 'failed' then
    rcall('HDEL', KEYS[4], member)
    rcall('HSET', KEYS[5], member, detail)
    failedForGood = failedForGood + 1
  else
    rcall('HDEL', KEYS[4], member)
  end
end
return failedForGood
