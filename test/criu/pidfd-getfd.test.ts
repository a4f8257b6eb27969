/**
 * pidfd_getfd(2) (src/ioctls/pidfd-getfd.ts, kernel/pid.c): the checks in the kernel's order
 * and the result — a new fd, the lowest free one, for the same open file.
 */
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../src/uapi/errno.js';
import { APP, CriuWorld, PEER, UNPRIVILEGED } from '../mbt/adapters/criu-world.js';

function setup() {
  const w = new CriuWorld();
  const kfd = w.open('/dev/kfd');
  return { w, kfd };
}

describe('pidfd_getfd', () => {
  it('kernel/pid.c pidfd_getfd: the new fd is the lowest free one of the caller and names the same open file', () => {
    const { w, kfd } = setup();
    const own = w.open('/dev/kfd', PEER); // fd 0 of the peer
    const r = w.call(PEER, 'pidfd_getfd', { pid: APP, targetfd: kfd, flags: 0 });
    expect(r.out.fd).toBe(own + 1);
    const file = w.world.tasks[APP]!.fds[kfd]!;
    expect(w.world.tasks[PEER]!.fds[r.out.fd as number]).toBe(file);
    // the file lives while either fd is open
    w.call(APP, 'close', { fd: kfd });
    expect(w.world.files[file]).toBeDefined();
    w.call(PEER, 'close', { fd: r.out.fd });
    expect(w.world.files[file]).toBeUndefined();
  });

  it('kernel/pid.c: flags ≠ 0 → -EINVAL before the pid is looked up', () => {
    const { w } = setup();
    expect(w.call(PEER, 'pidfd_getfd', { pid: 4242, targetfd: 0, flags: 1 }, undefined, null).ret).toBe(-ERRNO.EINVAL);
  });

  it('kernel/pid.c: no such process → -ESRCH, also once it exited', () => {
    const { w, kfd } = setup();
    expect(w.call(PEER, 'pidfd_getfd', { pid: 4242, targetfd: 0, flags: 0 }, undefined, null).ret).toBe(-ERRNO.ESRCH);
    w.call(APP, 'exit', {});
    expect(w.call(PEER, 'pidfd_getfd', { pid: APP, targetfd: kfd, flags: 0 }, undefined, null).ret).toBe(-ERRNO.ESRCH);
  });

  it('kernel/pid.c __pidfd_fget: ptrace_may_access refused → -EPERM, checked before the fd', () => {
    const { w } = setup();
    // UNPRIVILEGED is neither APP's ptrace parent nor holds CAP_SYS_PTRACE; fd 99 is not open
    expect(w.call(UNPRIVILEGED, 'pidfd_getfd', { pid: APP, targetfd: 99, flags: 0 }, undefined, null).ret).toBe(
      -ERRNO.EPERM,
    );
    // APP may not take the peer's fds either (no CAP_SYS_PTRACE, not its ptrace parent)
    const pf = w.open('/dev/kfd', PEER);
    expect(w.call(APP, 'pidfd_getfd', { pid: PEER, targetfd: pf, flags: 0 }, undefined, null).ret).toBe(-ERRNO.EPERM);
  });

  it('kernel/pid.c __pidfd_fget: the ptrace parent and the process itself are allowed; a closed fd → -EBADF', () => {
    const { w, kfd } = setup();
    expect(w.call(99, 'pidfd_getfd', { pid: APP, targetfd: kfd, flags: 0 }).ret).toBe(0);
    expect(w.call(APP, 'pidfd_getfd', { pid: APP, targetfd: kfd, flags: 0 }).ret).toBe(0);
    expect(w.call(PEER, 'pidfd_getfd', { pid: APP, targetfd: 77, flags: 0 }, undefined, null).ret).toBe(-ERRNO.EBADF);
  });
});
