#ifndef NETPLUG_CSPAWN_H
#define NETPLUG_CSPAWN_H
#include <sys/types.h>

/* The pipes and process of one running hook. Our ends are non-blocking and close-on-exec. */
typedef struct {
    pid_t pid;
    int stdin_fd;   /* write end of the hook's stdin; -1 once all of the input is in the pipe */
    size_t stdin_written;  /* how much of the input was written before the hook started */
    int stdout_fd;  /* read end of the hook's stdout */
    int stderr_fd;  /* read end of the hook's stderr */
    int pid_fd;     /* pidfd: readable once the hook has exited */
} netplug_child;

/* Starts `path` with posix_spawn in a new process group, in `cwd`, with the standard signals
   at their defaults, an empty signal mask, the normal scheduling policy and only fds 0-2
   open. As much of `input` as the pipe holds (64 KiB) is written to its stdin before it
   starts.
   Returns 0, or an errno value (nothing is left open on failure). */
int netplug_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                  const unsigned char *input, size_t input_length, netplug_child *child);

/* The same start, for a resident hook: nothing is written and stdin stays open (stdin_fd,
   non-blocking), since calls are written to it one line at a time for as long as it runs. */
int netplug_spawn_resident(const char *path, char *const argv[], char *const envp[], const char *cwd,
                           netplug_child *child);

/* Puts the calling thread under SCHED_BATCH: same CPU share, but waking it (a hook's output,
   a worker's answer) does not preempt the running task. 0, or an errno value. */
int netplug_batch_thread(void);

/* Starts `path` for the sandbox's own use (util-linux unshare around the command, a process
   that holds a container's namespace): the caller's stdin, stdout and stderr, or /dev/null
   for all three when `quiet`; fd `keep_fd` as fd 3 when not -1, nothing else; every signal at
   its default and none blocked; the caller's process group. 0, or an errno value. */
int netplug_spawn_plain(const char *path, char *const argv[], char *const envp[], int keep_fd, int quiet, pid_t *pid);

/* Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and returns a signalfd that reads
   them (close-on-exec), or -1. */
int netplug_stop_signals_fd(void);

/* pipe2 with O_CLOEXEC on both ends. 0, or an errno value. */
int netplug_pipe_cloexec(int fds[2]);

/* Starts `path` as the first process of new network, mount and PID namespaces (and a user
   namespace mapping the caller to root, when `user`), with its mounts private and a fresh
   /proc: the sandbox of `exercise`, `replay` and `call`. Its stdin, stdout and stderr are the
   caller's, `status_fd` is its fd 3, nothing else is open. 0 and *pid once the program runs
   (exec succeeded), or an errno value. */
int netplug_spawn_sandbox(const char *path, char *const argv[], char *const envp[], int user, int status_fd, pid_t *pid);

/* Inside a managed plugin /proc/sys is read-only (also with CAP_SYS_ADMIN): binds /proc/sys/net
   over itself, read-write, so that hooks can set the network's sysctls. Needs CAP_SYS_ADMIN.
   0 (also when it already was writable), or an errno value. */
int netplug_make_proc_sys_net_writable(void);

int netplug_wifexited(int status);
int netplug_wexitstatus(int status);
int netplug_wifsignaled(int status);
int netplug_wtermsig(int status);
#endif
