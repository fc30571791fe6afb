// A Linux process's nice value and scheduling policy from the text of its /proc/PID/stat
// (fields 19 and 41; policy 5 = SCHED_IDLE). The command name may hold spaces or parentheses,
// so fields are counted after its closing parenthesis.
export function priorityFromStat(stat: string): { nice: number; policy: number } {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { nice: Number(f[16]), policy: Number(f[38]) };
}
