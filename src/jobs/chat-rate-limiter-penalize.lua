--[[
  After a 429: push "not before" times later (never earlier), for the chat and, when the
  platform paused every chat, for all of them. Slots already handed out are not moved.

  KEYS[1]  chat's next free time: string, ms
  KEYS[2]  global pause: string, ms until which nobody may send (only touched when ARGV[3] = "1")
  ARGV[1]  now in ms, or "" to use the Redis server clock (the same for every process)
  ARGV[2]  retry-after in ms
  ARGV[3]  "1" to pause every chat too, else "0"
  Returns  1
]]

-- The same "now" as in chat-rate-limiter-reserve.lua: every process reads one clock.
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local wait = tonumber(ARGV[2])
local untilMs = now + wait
local last = 1
if ARGV[3] == '1' then last = 2 end
for i = 1, last do
  local current = tonumber(redis.call('GET', KEYS[i]) or 0)
  if untilMs > current then redis.call('SET', KEYS[i], untilMs, 'PX', wait + 1000) end
end
return 1
