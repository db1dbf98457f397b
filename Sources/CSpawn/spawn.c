#define _GNU_SOURCE
#include "cspawn.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set once some thread of this process runs under SCHED_BATCH. */
static int batch_in_use;

static void close_pair(int p[2]) {
    if (p[0] >= 0) close(p[0]);
    if (p[1] >= 0) close(p[1]);
}

static int spawn_child(const char *path, char *const argv[], char *const envp[], const char *cwd,
                       const unsigned char *input, size_t input_length, int keep_stdin, netplug_child *child) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int rc = 0;
    /* O_CLOEXEC on every end: only the dup2 copies (0, 1, 2) survive into the hook, and no
       other hook spawned concurrently inherits our ends. */
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        rc = errno;
        close_pair(in); close_pair(out); close_pair(err);
        return rc;
    }

    /* The request goes into the pipe before the hook exists: a hook that reads its stdin at
       once then never waits for us, which saves two context switches per call. */
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    size_t written = 0;
    while (written < input_length) {
        ssize_t n = write(in[1], input + written, input_length - written);
        if (n > 0) written += (size_t)n;
        else if (n < 0 && errno == EINTR) continue;
        else break;  /* full (EAGAIN): the rest is written while the hook runs */
    }
    if (written == input_length && !keep_stdin) { close(in[1]); in[1] = -1; }

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);

    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    if (cwd) posix_spawn_file_actions_addchdir_np(&actions, cwd);
    /* Belt and braces: descriptors opened without O_CLOEXEC by libraries stay out too. */
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    /* Ignored signals stay ignored across exec: the host ignores SIGPIPE (and SIGTERM/SIGINT,
       which it takes through signalfd-style sources), so the hook must get them back as
       defaults. Handled signals are reset by exec itself. A short list, not every signal:
       each one costs the child a system call before exec, while the host waits. */
    sigset_t reset, none;
    sigemptyset(&reset);
    int signals[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM, SIGTTIN, SIGTTOU, SIGTSTP, SIGXFSZ};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaddset(&reset, signals[i]);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &reset);
    posix_spawnattr_setsigmask(&attr, &none);
    /* Its own process group, so a timeout can end the hook and everything it started. */
    posix_spawnattr_setpgroup(&attr, 0);
    /* The host's threads run under SCHED_BATCH (netplug_batch_thread); the hook gets the
       normal policy back, as if a shell had started it. Only asked for when the host did
       change its policy: where a sandbox forbids sched_setscheduler, neither happens. */
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    struct sched_param normal = {0};
    if (__atomic_load_n(&batch_in_use, __ATOMIC_RELAXED)) {
        posix_spawnattr_setschedpolicy(&attr, SCHED_OTHER);
        posix_spawnattr_setschedparam(&attr, &normal);
        flags |= POSIX_SPAWN_SETSCHEDULER;
    }
    posix_spawnattr_setflags(&attr, flags);

    pid_t pid = -1;
    rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(in[0]); close(out[1]); close(err[1]);
    if (rc != 0) {
        if (in[1] >= 0) close(in[1]);
        close(out[0]); close(err[0]);
        return rc;
    }
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);

    child->pid = pid;
    child->stdin_fd = in[1];
    child->stdin_written = written;
    child->stdout_fd = out[0];
    child->stderr_fd = err[0];
    /* pidfd tells us the hook exited even while a grandchild still holds its stdout open. */
    child->pid_fd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}

int netplug_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                  const unsigned char *input, size_t input_length, netplug_child *child) {
    return spawn_child(path, argv, envp, cwd, input, input_length, 0, child);
}

int netplug_spawn_resident(const char *path, char *const argv[], char *const envp[], const char *cwd,
                           netplug_child *child) {
    return spawn_child(path, argv, envp, cwd, NULL, 0, 1, child);
}

int netplug_batch_thread(void) {
    struct sched_param none = {0};
    if (sched_setscheduler(0, SCHED_BATCH, &none) != 0) return errno;
    __atomic_store_n(&batch_in_use, 1, __ATOMIC_RELAXED);
    return 0;
}

int netplug_wifexited(int status) { return WIFEXITED(status); }
int netplug_wexitstatus(int status) { return WEXITSTATUS(status); }
int netplug_wifsignaled(int status) { return WIFSIGNALED(status); }
int netplug_wtermsig(int status) { return WTERMSIG(status); }

int netplug_spawn_plain(const char *path, char *const argv[], char *const envp[], int keep_fd, int quiet, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    if (quiet) {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    int first_closed = 3;
    if (keep_fd >= 0) {
        /* dup2 onto itself would keep O_CLOEXEC; the copy at 3 never has it. */
        if (keep_fd == 3) {
            int spare = fcntl(keep_fd, F_DUPFD_CLOEXEC, 10);
            posix_spawn_file_actions_adddup2(&actions, spare, 3);
            keep_fd = spare;
        } else {
            posix_spawn_file_actions_adddup2(&actions, keep_fd, 3);
        }
        first_closed = 4;
    }
    posix_spawn_file_actions_addclosefrom_np(&actions, first_closed);
    sigset_t all, none;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int netplug_stop_signals_fd(void) {
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stops, NULL);
    return signalfd(-1, &stops, SFD_CLOEXEC);
}

int netplug_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno; }
