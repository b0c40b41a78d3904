/**
 * What sources report and operators steer: tasks, spend, heartbeats, health
 * checks and commands. Types only; the rules live in `src/handlers/`.
 */

/** Task states, in the order a task usually moves through them. */
export const TASK_STATES = ["backlog", "ready", "in-progress", "review", "done", "failed"] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** A task as its source last reported it (and as commands changed it). */
export interface Task {
  id: string;
  source: string;
  title: string;
  state: TaskState;
  agent: string | null;
  /** Higher runs sooner; `prioritise` puts a task above every open one. */
  priority: number;
  attempts: number;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** When the task entered its current state. */
  stateSince: Date;
}

/** Commands operators send to a task's source. */
export const TASK_COMMANDS = ["kill", "retry", "prioritise"] as const;
export type TaskCommand = (typeof TASK_COMMANDS)[number];

/** A command as stored and as sources receive it (webhook body and `GET /api/commands`). */
export interface CommandRecord {
  id: string;
  command: TaskCommand;
  taskId: string;
  source: string;
  requestedBy: string;
  createdAt: Date;
  /** The task after the command changed it. */
  task: Task;
}

/** A sum of money in one currency. */
export interface Money {
  amount: number;
  currency: string;
}

/** Spend summed by one key (an agent or a model; null when the record named none). */
export interface SpendLine extends Money {
  key: string | null;
}

/** An agent's latest heartbeat. */
export interface Heartbeat {
  agent: string;
  source: string;
  status: string | null;
  detail: string | null;
  lastSeen: Date;
}

/** The last result of a configured health check. */
export interface HealthResult {
  name: string;
  ok: boolean;
  detail: string | null;
  checkedAt: Date;
  /** When the current up/down state began. */
  since: Date;
}

/** The JSON shape of a task in API responses and command bodies. */
export function toTaskRecord(task: Task): Record<string, unknown> {
  return {
    id: task.id,
    source: task.source,
    title: task.title,
    state: task.state,
    agent: task.agent,
    priority: task.priority,
    attempts: task.attempts,
    error: task.error,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
    stateSince: task.stateSince.toISOString(),
  };
}

/** The JSON shape of a command (what a source receives, by webhook or pull). */
export function toCommandRecord(command: CommandRecord): Record<string, unknown> {
  return {
    id: command.id,
    command: command.command,
    taskId: command.taskId,
    source: command.source,
    requestedBy: command.requestedBy,
    createdAt: command.createdAt.toISOString(),
    task: toTaskRecord(command.task),
  };
}
