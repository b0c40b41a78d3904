--[[
  Which of a page of timer jobs the reconcile must re-create: those whose job is gone (Redis lost
  it, or it completed and was removed), or is in no state that will still run it (failed,
  completed, or in no state at all). A job that is delayed, prioritized, waiting or active is
  left alone. The same states as BullMQ's own getState, checked for a whole page in one call
  instead of two round trips a job.

  KEYS[1]  the queue's delayed set
  KEYS[2]  the queue's prioritized set
  KEYS[3]  the queue's active list
  KEYS[4]  the queue's wait list
  KEYS[5]  the queue's paused list
  ARGV[1]  the prefix of a job's hash key ("<prefix>:<queue>:"), the job id follows it
  ARGV[2…] the job ids
  Returns  the positions (1-based, among the job ids) of the jobs to re-create: negative when the
           job's hash is still there (it must be removed first), positive when it is gone
]]

local rcall = redis.call

local function willRun(id)
  if rcall('ZSCORE', KEYS[1], id) or rcall('ZSCORE', KEYS[2], id) then return true end
  -- Waiting and active lists hold only the jobs due now, so these scans stay short.
  return (rcall('LPOS', KEYS[3], id) or rcall('LPOS', KEYS[4], id) or rcall('LPOS', KEYS[5], id)) ~= false
end

local repair = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if rcall('EXISTS', ARGV[1] .. id) == 0 then
    repair[#repair + 1] = i - 1
  elseif not willRun(id) then
    repair[#repair + 1] = 1 - i
  end
end
return repair
