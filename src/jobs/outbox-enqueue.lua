--[[
  Take a chat's next ticket for an outbox job and, for a job with an id (a card edit, an
  announcement), claim that id in the same step: two processes queuing the same card edit at
  once can never both take a ticket. (The queue ignores the second add of an id, so a ticket
  taken for it would be a hole that makes the chat's later messages wait out their patience.)

  KEYS[1]  the chat's ticket counter
  KEYS[2]  the chat's watermark (ticket up to which nobody need wait); only its expiry is set here
  KEYS[3]  the chat's handled tickets (set); only its expiry is set here
  KEYS[4]  optional: the job's hash in the queue (exists while it waits, runs, or stays failed)
  KEYS[5]  optional: the job id's claim, held from here until the job is in the queue
  ARGV[1]  how long a quiet chat's line is kept (s)
  ARGV[2]  with KEYS[4..5]: how long the claim outlives a process that dies before adding (ms)
  Returns  the ticket; nil when the id is already queued or claimed (a duplicate: not added)
]]

if #KEYS == 5 then
  if redis.call('EXISTS', KEYS[4]) == 1 then return false end
  if not redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[2]) then return false end
end
-- No counter: the line is new, expired, or lost with Redis's keys. Whatever else of it is left
-- (a send that finished while the keys were being lost) is cleared, or the new ticket 1 could be
-- taken for a message already sent.
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[2], KEYS[3]) end
local ticket = redis.call('INCR', KEYS[1])
-- A chat's counter, watermark and handled set expire at the same instant: a counter that
-- outlived its watermark would make the next message wait for tickets sent long ago.
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
return ticket
