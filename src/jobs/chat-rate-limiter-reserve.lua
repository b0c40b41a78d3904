--[[
  Reserve one outbound send slot for a chat; atomic, so every process sharing Redis books from
  the same calendar and two callers can never get the same slot.

  KEYS[1]  global slots: zset, score = slot time (ms), member = slot id
  KEYS[2]  global pause: string, ms until which nobody may send (set after a global 429)
  KEYS[3]  chat's next free time: string, ms (also pushed by a 429 for this chat)
  KEYS[4]  chat's recent slots: zset, only used for group chats (the 60 s window)
  ARGV[1]  now in ms, or "" to use the Redis server clock (the same for every process)
  ARGV[2]  global gap in ms between any two slots (ceil(1000 / messages per second))
  ARGV[3]  per-chat interval in ms
  ARGV[4]  group limit per window (0 when the chat is not a group)
  ARGV[5]  group window in ms
  ARGV[6]  slot id, unique per call
  Returns  ms from now until the slot (0 = send now)

  Rules, in this order, each only moving the slot later:
    1. not before now, the global pause, or the chat's next free time (1 msg / interval / chat);
    2. for a group, not before its limit-th most recent slot has left the window;
    3. globally, at least `gap` ms from every other booked slot: the earliest hole among the
       next few hundred booked slots, else after the last one. Slots booked for other chats
       may lie in the future, so holes are worth filling; the chat's own rules stay met
       because the slot only moves later.
]]

-- The same "now" as in chat-rate-limiter-penalize.lua: every process reads one clock.
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local gap = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local groupMax = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local id = ARGV[6]

local slot = now
local pausedUntil = tonumber(redis.call('GET', KEYS[2]) or 0)
if pausedUntil > slot then slot = pausedUntil end
local chatNext = tonumber(redis.call('GET', KEYS[3]) or 0)
if chatNext > slot then slot = chatNext end

if groupMax > 0 and redis.call('ZCARD', KEYS[4]) >= groupMax then
  -- A group's slots only ever grow (rule 1), so the limit-th most recent decides.
  local oldest = redis.call('ZRANGE', KEYS[4], -groupMax, -groupMax, 'WITHSCORES')
  local free = tonumber(oldest[2]) + window
  if free > slot then slot = free end
end

-- Slots at or before now - gap can no longer collide with anything booked from now on.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - gap)
-- Every pass moves the slot past the booked ones it read, so the search always ends; after
-- `maxPasses` full batches without a hole, the slot goes after the last booked one (always
-- free), which bounds the script's time when thousands of slots are booked ahead.
local batch = 64
local maxPasses = 8
local passes = 0
while true do
  local booked = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (slot - gap), '+inf', 'WITHSCORES', 'LIMIT', 0, batch)
  local free = false
  for i = 2, #booked, 2 do
    local other = tonumber(booked[i])
    if other < slot + gap then
      slot = other + gap
    else
      free = true
      break
    end
  end
  if free or #booked < 2 * batch then break end
  passes = passes + 1
  if passes >= maxPasses then
    local tail = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    local after = tonumber(tail[2]) + gap
    if after > slot then slot = after end
    break
  end
end

redis.call('ZADD', KEYS[1], slot, id)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], tonumber(last[2]) - now + gap + 1000)
redis.call('SET', KEYS[3], slot + interval, 'PX', slot + interval - now + 1000)
if groupMax > 0 then
  redis.call('ZADD', KEYS[4], slot, id)
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(groupMax + 1))
  redis.call('PEXPIRE', KEYS[4], slot - now + window + 1000)
end
return slot - now
