-- 006_task_id_ignoring_case: operators name tasks in any case ("kill task t-16" finds T-16), so
-- tasks are looked up by lower(id). Parameters: none. Forward-only: never edit once shipped.
CREATE INDEX tasks_lower_id ON tasks (lower(id));
