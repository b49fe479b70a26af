// systemd socket activation (sd_listen_fds(3)): when LISTEN_PID names this process and LISTEN_FDS
// counts at least one descriptor, the first one (3) is the listening socket to serve.
type Env = Readonly<Record<string, string | undefined>>;

export const SD_LISTEN_FDS_START = 3;

/** The descriptor systemd passed for this process, or undefined when it passed none. */
export function activationFd(env: Env = process.env, pid: number = process.pid): number | undefined {
  if (env.LISTEN_PID !== String(pid)) return undefined;
  const count = Number(env.LISTEN_FDS);
  return Number.isInteger(count) && count >= 1 ? SD_LISTEN_FDS_START : undefined;
}
