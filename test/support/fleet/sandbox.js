/**
 * What an execution environment's process is started in: Linux mount and PID namespaces
 * (util-linux `unshare`, as root) around a read-only root made of a small skeleton, so the process
 * sees what a Lambda environment has and nothing of this machine (sandbox.sh does the mounts).
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** The runtime's user on Lambda (sbx_user1051). */
const SANDBOX_UID = 993;
const SANDBOX_GID = 990;

/**
 * Basic tools of the runtime image (Amazon Linux's shell and core utilities), copied into the
 * skeleton: what a test may reasonably spawn. No git, compilers, package managers or the host's
 * node: none of them is on a Lambda environment.
 */
const BASIC_TOOLS = [
  'sh',
  'bash',
  'cat',
  'ls',
  'env',
  'echo',
  'printf',
  'pwd',
  'true',
  'false',
  'mkdir',
  'rm',
  'cp',
  'mv',
  'ln',
  'uname',
  'id',
  'date',
  'sleep',
  'head',
  'tail',
  'wc',
  'sort',
  'tr',
  'cut',
  'basename',
  'dirname',
  'readlink',
  'touch',
  'chmod',
  'stat',
  'tee',
  'xargs',
  'grep',
  'sed',
];

/** Lambda's PATH for the Node runtimes. */
const LAMBDA_PATH = '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin';

let probed;

/**
 * Whether environments can be isolated here: Linux, root, and `unshare --mount --pid --fork`
 * able to mount a tmpfs. Returns `{ ok: true }` or `{ ok: false, reason }` (the reason says why, for
 * the tests that skip).
 */
function namespaceSupport() {
  if (probed) return probed;
  if (process.platform !== 'linux') return (probed = { ok: false, reason: `mount namespaces need Linux (this is ${process.platform})` });
  if (process.getuid?.() !== 0) return (probed = { ok: false, reason: `mount namespaces need root here (uid ${process.getuid?.()})` });
  for (const tool of ['unshare', 'mount', 'chroot', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return (probed = { ok: false, reason: `${tool} (util-linux/coreutils) is not installed` });
  }
  const r = spawnSync(
    'unshare',
    ['--mount', '--pid', '--fork', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m probe /mnt && mount -t proc proc /proc && test "$$" = 1'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return (probed = { ok: false, reason: `unshare --mount --pid --fork failed here: ${(r.stderr || r.error?.message || '').trim()}` });
  return (probed = { ok: true });
}

/**
 * How environment memory is limited: a cgroup v2 with the memory controller would do it in the
 * kernel; without one (a v1 or hybrid hierarchy, as on these machines) the fleet polls the RSS of
 * the environment's processes.
 */
function memoryLimitMethod() {
  try {
    const controllers = fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8');
    if (controllers.split(/\s+/).includes('memory'))
      return { method: 'rss-poll', note: 'cgroup v2 memory controller present; the fleet still polls RSS (one method everywhere)' };
  } catch {
    // no unified hierarchy at /sys/fs/cgroup
  }
  return { method: 'rss-poll', note: 'no cgroup v2 memory controller at /sys/fs/cgroup (v1 or hybrid hierarchy): RSS of the environment is polled' };
}

/** Writes the read-only root every environment shares: /etc, basic tools, empty mount points. */
function makeSkeleton(dir) {
  const mkdir = (p) => fs.mkdirSync(path.join(dir, p), { recursive: true, mode: 0o755 });
  for (const d of [
    'etc',
    'usr/bin',
    'usr/libexec/jrl-fleet',
    'usr/lib/x86_64-linux-gnu',
    'usr/lib64',
    'usr/share/zoneinfo',
    'var/task',
    'var/runtime',
    'var/lang/bin',
    'tmp',
    'dev',
    'proc',
    'opt',
    'home',
    'root',
  ])
    mkdir(d);
  fs.symlinkSync('usr/bin', path.join(dir, 'bin'));
  fs.symlinkSync('usr/bin', path.join(dir, 'sbin'));
  fs.symlinkSync('usr/lib', path.join(dir, 'lib'));
  fs.symlinkSync('usr/lib64', path.join(dir, 'lib64'));
  fs.symlinkSync('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', path.join(dir, 'usr/lib64/ld-linux-x86-64.so.2'));
  fs.writeFileSync(path.join(dir, 'var/lang/bin/node'), '');
  for (const tool of BASIC_TOOLS) {
    const source = [`/usr/bin/${tool}`, `/bin/${tool}`].find((f) => fs.existsSync(f));
    if (source) fs.copyFileSync(fs.realpathSync(source), path.join(dir, 'usr/bin', tool));
    if (source) fs.chmodSync(path.join(dir, 'usr/bin', tool), 0o755);
  }
  // the fleet's own helper (sandbox.sh), off PATH: not a tool of the environment
  fs.copyFileSync(fs.realpathSync('/usr/bin/setpriv'), path.join(dir, 'usr/libexec/jrl-fleet/setpriv'));
  fs.chmodSync(path.join(dir, 'usr/libexec/jrl-fleet/setpriv'), 0o755);
  const etc = {
    passwd: `root:x:0:0:root:/root:/bin/bash\nsbx_user1051:x:${SANDBOX_UID}:${SANDBOX_GID}::/home/sbx_user1051:/sbin/nologin\n`,
    group: `root:x:0:\nsbx_user1051:x:${SANDBOX_GID}:\n`,
    hosts: '127.0.0.1 localhost\n::1 localhost\n',
    'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
    'resolv.conf': fs.existsSync('/etc/resolv.conf') ? fs.readFileSync('/etc/resolv.conf', 'utf8') : '',
    'os-release': 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nPRETTY_NAME="Amazon Linux 2023 (emulated by the jest-runner-remote-lambda fleet)"\n',
  };
  for (const [name, text] of Object.entries(etc)) fs.writeFileSync(path.join(dir, 'etc', name), text, { mode: 0o644 });
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * The command that starts one environment: `unshare` (new mount and PID namespaces; its child is
 * killed with it) running sandbox.sh, which builds the root and execs `command` in it.
 */
function sandboxCommand({ skeleton, codeDir, runtimeDir, nodeBinary, tmpMb, command }) {
  // setpriv: unshare dies with the fleet even if the fleet is killed outright (and, through
  // --kill-child, everything in the namespace with it)
  return {
    file: 'setpriv',
    args: [
      '--pdeathsig',
      'SIGKILL',
      '--',
      'unshare',
      '--mount',
      '--pid',
      '--fork',
      '--kill-child=SIGKILL',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      path.join(__dirname, 'sandbox.sh'),
      skeleton,
      codeDir,
      runtimeDir,
      nodeBinary,
      String(tmpMb),
      `${SANDBOX_UID}:${SANDBOX_GID}`,
      ...command,
    ],
  };
}

module.exports = { namespaceSupport, memoryLimitMethod, makeSkeleton, sandboxCommand, LAMBDA_PATH, SANDBOX_UID, SANDBOX_GID, BASIC_TOOLS };
