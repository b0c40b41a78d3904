--[[
  Mark a ticket handled (sent, or failed for good) and advance the chat's watermark: the ticket
  up to which nobody need wait any more. A ticket sent after running out of patience moves the
  watermark to itself (later messages stop waiting), but the earlier tickets are not in the
  handled set, so they are still sent when they run.

  KEYS[1]  the chat's watermark
  KEYS[2]  the chat's handled tickets (set)
  KEYS[3]  the chat's ticket counter; only its expiry is set here
  ARGV[1]  the ticket
  ARGV[2]  "1" if it was sent impatiently (before every earlier ticket was handled)
  ARGV[3]  how long a quiet chat's line is kept (s)
  Returns  the new watermark
  A chat whose counter is gone lost its line (Redis lost its keys while this was being sent):
  nothing is recorded, or the chat's next message, whose ticket starts again at 1, could be
  taken for one already sent and dropped.
]]

if redis.call('EXISTS', KEYS[3]) == 0 then return tonumber(redis.call('GET', KEYS[1]) or 0) end
redis.call('SADD', KEYS[2], ARGV[1])
local mark = tonumber(redis.call('GET', KEYS[1]) or 0)
local ticket = tonumber(ARGV[1])
if ARGV[2] == '1' and ticket > mark then mark = ticket end
while redis.call('SISMEMBER', KEYS[2], tostring(mark + 1)) == 1 do mark = mark + 1 end
-- The counter expires with the watermark and the set (see outbox-enqueue.lua).
redis.call('SET', KEYS[1], mark, 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return mark
